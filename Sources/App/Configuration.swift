import Foundation

/// Everything the worker reads from its environment (and a few command-line overrides), read
/// once at start-up. Secrets stay in here and are never rendered, logged or returned.
public struct Configuration: Sendable {
    public var templatesDirectory: String
    public var databasePath: String
    public var publicURL: String
    public var secretKeyFile: String
    /// True when the Fivetran and Front APIs are the local stand-ins (`switchboard sandbox`).
    public var sandbox: Bool
    public var version: String
    /// Bearer tokens accepted on `/api/` besides those made on /settings (`SWITCHBOARD_API_TOKENS`).
    public var apiTokens: [String]
    /// Front's API (`FRONT_BASE_URL`), for the job runner.
    public var frontBaseURL: URL
    /// Whether `serve` runs the job runner too (`serve --no-jobs` turns it off).
    public var runJobs: Bool
    /// Jobs one runner runs at once (`SWITCHBOARD_JOB_CONCURRENCY`, default 2).
    public var jobConcurrency: Int
    /// How long a job's lease holds without a heartbeat (`SWITCHBOARD_JOB_LEASE_SECONDS`, default 10):
    /// after a crash, the job waits this long before another runner resumes it.
    public var jobLeaseSeconds: Int

    public static let version = "0.1.0"

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, templatesDirectory: String? = nil) {
        let port = environment["PORT"] ?? "8080"
        self.templatesDirectory = templatesDirectory ?? environment["SWITCHBOARD_TEMPLATES"] ?? "templates"
        self.databasePath = environment["SWITCHBOARD_DB"] ?? "var/switchboard.sqlite"
        self.publicURL = (environment["SWITCHBOARD_PUBLIC_URL"] ?? "http://127.0.0.1:\(port)")
            .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.secretKeyFile = environment["SWITCHBOARD_SECRET_KEY_FILE"] ?? "var/secret.key"
        self.sandbox = environment["SWITCHBOARD_SANDBOX"] == "1"
        self.version = Self.version
        self.apiTokens = (environment["SWITCHBOARD_API_TOKENS"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        self.frontBaseURL = environment["FRONT_BASE_URL"].flatMap { $0.isEmpty ? nil : URL(string: $0) }
            ?? URL(string: "https://api2.frontapp.com")!
        self.runJobs = true
        self.jobConcurrency = environment["SWITCHBOARD_JOB_CONCURRENCY"].flatMap(Int.init).map { max(1, $0) } ?? 2
        self.jobLeaseSeconds = environment["SWITCHBOARD_JOB_LEASE_SECONDS"].flatMap(Int.init).map { max(2, $0) } ?? 10
    }
}

/// The key that signs CSRF tokens (and, later, encrypts stored tokens). Created with mode 0600
/// on first start, so every worker process and every restart share it.
public enum SecretKey {
    public static func loadOrCreate(at path: String) throws(SecretKeyError) -> [UInt8] {
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count >= 32 else { throw .tooShort(path) }
            return Array(data)
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        guard FileManager.default.createFile(atPath: path, contents: Data(key), attributes: [.posixPermissions: 0o600])
        else { throw .cannotCreate(path) }
        return key
    }
}

public enum SecretKeyError: Error, CustomStringConvertible {
    case tooShort(String)
    case cannotCreate(String)

    public var description: String {
        switch self {
        case .tooShort(let path): "secret key file \(path) holds fewer than 32 bytes; delete it to have a new one made"
        case .cannotCreate(let path): "cannot create the secret key file \(path): is its folder writable?"
        }
    }
}
