import Foundation
import Web

// `GET /api/openapi.json`: the API described (OpenAPI 3.1), as checked in at
// Sources/App/Resources/openapi.json. Open, like the document says: it holds no data.
extension APIRoutes {
    /// The document's bytes, read once from the bundle; nil when it is missing from the build.
    static let openAPIDocument: [UInt8]? = {
        let url =
            Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: "openapi", withExtension: "json")
        return url.flatMap { try? Data(contentsOf: $0) }.map { Array($0) }
    }()

    func openAPI(_ request: Request) async throws -> Response {
        guard let bytes = Self.openAPIDocument else {
            throw HTTPError(status: 500, title: "No API document", message: "openapi.json is missing from this build.")
        }
        return .json(bytes: bytes)
    }
}
