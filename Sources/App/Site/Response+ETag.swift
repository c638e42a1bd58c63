import Crypto
import Foundation
import Web

extension Response {
    /// JSON with an `ETag`, or 304 when the client's `If-None-Match` matches: the job page's
    /// polling and the API's reads.
    static func jsonWithETag(_ value: some Encodable, request: Request, status: Int = 200) -> Response {
        var response = Response.json(value, status: status)
        guard case .bytes(let bytes) = response.body else { return response }
        let digest = SHA256.hash(data: bytes).prefix(12).map { String(format: "%02x", $0) }.joined()
        let etag = "\"\(digest)\""
        response.setHeader("ETag", etag)
        // Weak comparison (RFC 9110 §13.1.2): nginx's gzip turns the ETag into W/"…" on the way out.
        func opaque(_ tag: Substring) -> String {
            let trimmed = tag.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("W/") ? String(trimmed.dropFirst(2)) : trimmed
        }
        if status == 200, let match = request.header("if-none-match"),
            match.split(separator: ",").contains(where: { opaque($0) == etag || opaque($0) == "*" })
        {
            response.status = 304
            response.body = .bytes([])
        }
        return response
    }
}
