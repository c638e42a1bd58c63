import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One outgoing HTTP request, as a value the API clients build and tests can inspect.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [String: String]
    public var body: Data?
    public var timeout: Duration

    public init(
        method: String = "GET", url: URL, headers: [String: String] = [:], body: Data? = nil,
        timeout: Duration = .seconds(30)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// What came back. Header names are lower-cased, so lookups need not care about case.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        self.body = body
    }

    public subscript(header name: String) -> String? { headers[name.lowercased()] }
}

/// The one seam between the API clients and the network: URLSession in the product, a scripted
/// double in unit tests of the clients' decisions. End-to-end tests always use the real one.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse
}

/// A request that got no HTTP answer at all; the clients retry these with backoff.
public enum TransportError: Error, Sendable, CustomStringConvertible {
    case timedOut(URL)
    case connectionFailed(URL, String)

    public var description: String {
        switch self {
        case .timedOut(let url): "no answer from \(url.host ?? url.absoluteString) in time"
        case .connectionFailed(let url, let why): "cannot reach \(url.host ?? url.absoluteString): \(why)"
        }
    }
}

/// `HTTPTransport` on Foundation's URLSession (libcurl on Linux): no extra build cost.
public struct URLSessionTransport: HTTPTransport {
    private let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.httpMaximumConnectionsPerHost = 16
        self.session = URLSession(configuration: configuration)
    }

    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        urlRequest.httpBody = request.body
        urlRequest.timeoutInterval =
            Double(request.timeout.components.seconds)
            + Double(request.timeout.components.attoseconds) / 1e18
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        do {
            let (data, response) = try await session.data(for: urlRequest)
            guard let http = response as? HTTPURLResponse else {
                throw TransportError.connectionFailed(request.url, "not an HTTP response")
            }
            var headers: [String: String] = [:]
            for (key, value) in http.allHeaderFields {
                headers[String(describing: key).lowercased()] = String(describing: value)
            }
            return HTTPResponse(status: http.statusCode, headers: headers, body: data)
        } catch let error as TransportError {
            throw error
        } catch let error as URLError where error.code == .timedOut {
            throw .timedOut(request.url)
        } catch {
            throw .connectionFailed(request.url, error.localizedDescription)
        }
    }
}
