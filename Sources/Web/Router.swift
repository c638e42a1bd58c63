/// Maps a method and a path to a handler. Patterns are `/`-separated segments: a literal,
/// `{name}`, or `{name}.suffix` (as in `/collections/{name}.ndjson`). The first route whose
/// pattern and method match wins; a path that matches only under other methods gets 405.
public struct Router: Sendable {
    public typealias Handler = @Sendable (Request) async throws -> Response

    public enum Match {
        /// `pattern` is the route as registered (`/jobs/{id}`): a label with few values, for metrics.
        case found(Handler, parameters: [String: String], pattern: String)
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private struct Route {
        let method: String
        let pattern: String
        let segments: [Segment]
        let handler: Handler
    }

    private enum Segment {
        case literal(String)
        case parameter(name: String, suffix: String)
    }

    private var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        let segments = pattern.split(separator: "/").map { piece -> Segment in
            guard piece.hasPrefix("{"), let close = piece.firstIndex(of: "}") else { return .literal(String(piece)) }
            let name = piece[piece.index(after: piece.startIndex)..<close]
            return .parameter(name: String(name), suffix: String(piece[piece.index(after: close)...]))
        }
        routes.append(Route(method: method.uppercased(), pattern: pattern, segments: segments, handler: handler))
    }

    public mutating func get(_ pattern: String, _ handler: @escaping Handler) { add("GET", pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: @escaping Handler) { add("POST", pattern, handler) }

    /// Every route as registered, in order: its method and pattern (`GET /jobs/{id}`).
    public var routeList: [(method: String, pattern: String)] { routes.map { ($0.method, $0.pattern) } }

    public func match(method: String, path: String) -> Match {
        let method = method == "HEAD" ? "GET" : method
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        var allowed: [String] = []
        for route in routes {
            guard let parameters = Self.bind(route.segments, to: parts) else { continue }
            if route.method == method { return .found(route.handler, parameters: parameters, pattern: route.pattern) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        if allowed.contains("GET") { allowed.append("HEAD") }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    private static func bind(_ segments: [Segment], to parts: [Substring]) -> [String: String]? {
        guard segments.count == parts.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let text):
                guard part == text else { return nil }
            case .parameter(let name, let suffix):
                guard part.hasSuffix(suffix), part.count > suffix.count else { return nil }
                parameters[name] = String(part.dropLast(suffix.count))
            }
        }
        return parameters
    }
}
