import Foundation

/// One request as both stand-ins' cores see it: plain values, so their routes and rules are
/// tested without a socket, and FlyingFox stays in `SandboxServer`.
struct SandboxRequest: Sendable {
    /// Upper-cased (`GET`, `POST`).
    var method: String
    /// Percent-encoded, as on the request line, so an encoded `/` stays inside its segment.
    var path: String
    /// Percent-encoded, without the `?`.
    var query: String
    /// Names lower-cased: HTTP names are case-insensitive and each core looks them up by one spelling.
    var headers: [String: String]
    var body: Data

    init(method: String, path: String, query: String = "", headers: [String: String] = [:], body: Data = Data()) {
        self.method = method.uppercased()
        self.path = path
        self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
        self.body = body
    }

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// Path segments after the leading `/`, each percent-decoded once.
    var segments: [String] {
        path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.removingPercentEncoding ?? String($0)
        }
    }

    /// Query items in order, decoded: Front's filters repeat names (`q[types][]`) and some take
    /// the last of a repeated name, so order and repeats are kept.
    var queryItems: [(name: String, value: String)] { Self.formItems(query) }

    /// The first value of `name`: Fivetran's parameters are each given once, and a repeat is ignored.
    func queryValue(_ name: String) -> String? { queryItems.first { $0.name == name }?.value }

    /// Decodes `a=1&b=x+y` (a query, or an `application/x-www-form-urlencoded` body): percent
    /// escapes decoded, `+` read as a space, as browsers send forms.
    static func formItems(_ text: String) -> [(name: String, value: String)] {
        text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                let spaced = part.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}
