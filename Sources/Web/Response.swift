import Foundation

/// What a handler answers. Every constructor sets `Content-Type`.
public struct Response: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        /// Several byte arrays sent one after another: a kept page's content between its
        /// visitor's layout, without copying the content into a new array per request.
        case parts([[UInt8]])
        /// Written chunk by chunk (downloads); `write` answers false once the client has gone.
        case stream(@Sendable (_ write: ([UInt8]) -> Bool) -> Void)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int = 200, headers: [(String, String)] = [], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { sameHeaderName($0.0, name) }?.1
    }

    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { sameHeaderName($0.0, name) }
        headers.append((name, value))
    }

    public static func html(_ text: String, status: Int = 200) -> Response {
        html(bytes: Array(text.utf8), status: status)
    }

    public static func html(bytes: [UInt8], status: Int = 200) -> Response {
        html(body: .bytes(bytes), status: status)
    }

    public static func html(body: Body, status: Int = 200) -> Response {
        Response(
            status: status,
            headers: [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-cache")],
            body: body)
    }

    public static func text(_ text: String, status: Int = 200) -> Response {
        Response(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: .bytes(Array(text.utf8)))
    }

    /// JSON from raw bytes already encoded.
    public static func json(bytes: [UInt8], status: Int = 200) -> Response {
        Response(
            status: status,
            headers: [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-cache")],
            body: .bytes(bytes))
    }

    /// JSON of an `Encodable` value, keys sorted so equal values give equal bytes (and ETags).
    public static func json(_ value: some Encodable, status: Int = 200) -> Response {
        let data = (try? jsonEncoder.encode(value)) ?? Data("null".utf8)
        return json(bytes: Array(data), status: status)
    }

    /// A redirect. `location` must be absolute (`https://…`) or root-relative (`/connectors`);
    /// anything else (`//evil.example`, `javascript:`) is refused as a programming error → `/`.
    public static func redirect(to location: String, status: Int = 303) -> Response {
        Response(
            status: status,
            headers: [("Location", safeLocation(location)), ("Content-Type", "text/plain; charset=utf-8")],
            body: .bytes(Array("See \(safeLocation(location))\n".utf8)))
    }

    static func safeLocation(_ location: String) -> String {
        if location.hasPrefix("/") && !location.hasPrefix("//") && !location.hasPrefix("/\\") { return location }
        if let url = URL(string: location), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            url.host != nil
        {
            return location
        }
        return "/"
    }
}

let jsonEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}()

/// ASCII case-insensitive comparison of header names, without allocating.
func sameHeaderName(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { $0 | 0x20 == $1 | 0x20 }
}
