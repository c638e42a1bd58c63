import Foundation
import Transport

/// The Front company a token belongs to (`GET /me`): what its rate budget is keyed by.
public struct FrontCompany: Sendable, Equatable, CustomStringConvertible {
    /// `cmp_…`
    public var id: String
    public var name: String?

    public init(id: String, name: String? = nil) {
        self.id = id
        self.name = name
    }

    public var description: String { name.map { "\(id) (\($0))" } ?? id }
}

extension FrontClient {
    /// The token's company (`GET /me`), with the number of HTTP attempts it took. Errors are
    /// those of a list: a 401 means the token is refused, a 403 that it lacks a scope.
    public func me() async throws(FrontError) -> (company: FrontCompany, requests: Int) {
        let answer = try await meAnswer()
        return (answer.company, answer.requests)
    }

    /// `me()` with the answer's rate-limit headers and when they came, for the company's limiter.
    func meAnswer() async throws(FrontError) -> (company: FrontCompany, headers: RateLimitHeaders, at: Double, requests: Int) {
        let (response, requests) = try await send(url("/me"))
        let at = clock.now()
        let company = try Self.company(from: response.body)
        // `send` already refused headers that are no numbers; anything left is taken as sent.
        let headers = (try? RateLimitHeaders(headers: response.headers, now: at)) ?? RateLimitHeaders()
        return (company, headers, at, requests)
    }

    private struct MeBody: Decodable {
        var id: String?
        var name: String?
    }

    /// The company of a `/me` body; an id that is missing, empty, overlong or holds control
    /// characters is an answer Front does not send, refused rather than used as a key.
    static func company(from body: Data) throws(FrontError) -> FrontCompany {
        let decoded: MeBody
        do {
            decoded = try JSONDecoder().decode(MeBody.self, from: body)
        } catch {
            throw .malformed(route: "/me", detail: "the body is not a JSON object with the company's id")
        }
        guard let id = decoded.id, !id.isEmpty, id.count <= 200,
            !id.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) || $0 == " " })
        else {
            throw .malformed(route: "/me", detail: "it names no company id (\"cmp_…\")")
        }
        return FrontCompany(id: id, name: decoded.name.map { String($0.prefix(200)) })
    }
}
