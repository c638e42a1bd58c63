import Foundation
import Jobs

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
    public var fivetran: FivetranSettings
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

    /// Front's rate-limit minute in seconds (`FRONT_MINUTE_SECONDS`, set by the sandbox when it shortens it).
    public var frontMinute: Double = 60

    /// How the job runner runs, from the settings above.
    public var jobRunnerOptions: JobRunner.Options {
        JobRunner.Options(
            concurrency: jobConcurrency, lease: .seconds(jobLeaseSeconds), frontBaseURL: frontBaseURL, frontMinute: frontMinute)
    }

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, templatesDirectory: String? = nil) {
        let port = environment["PORT"] ?? "8080"
        self.templatesDirectory = templatesDirectory ?? environment["SWITCHBOARD_TEMPLATES"] ?? "templates"
        self.databasePath = environment["SWITCHBOARD_DB"] ?? "var/switchboard.sqlite"
        self.publicURL = (environment["SWITCHBOARD_PUBLIC_URL"] ?? "http://127.0.0.1:\(port)")
            .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.secretKeyFile = environment["SWITCHBOARD_SECRET_KEY_FILE"] ?? "var/secret.key"
        self.sandbox = environment["SWITCHBOARD_SANDBOX"] == "1"
        self.version = Self.version
        self.fivetran = FivetranSettings(environment: environment)
        if let minute = environment["FRONT_MINUTE_SECONDS"].flatMap(Double.init), minute > 0 { self.frontMinute = minute }
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

/// How to reach Fivetran, and how long its answers are kept. The key and secret never leave
/// this value except into the client's Authorization header.
public struct FivetranSettings: Sendable {
    public var baseURL: URL
    public var apiKey: String
    public var apiSecret: String
    public var groupID: String
    /// `FIVETRAN_PATHS=legacy` for accounts that still need the `/v1/connectors…` paths.
    public var legacyPaths: Bool
    /// The only host a Connect Card redirect may go to.
    public var cardHost: String
    public var metadataTTL: Duration
    public var connectionsTTL: Duration

    public init(environment: [String: String]) {
        baseURL = environment["FIVETRAN_BASE_URL"].flatMap { URL(string: $0) } ?? URL(string: "https://api.fivetran.com")!
        apiKey = environment["FIVETRAN_API_KEY"] ?? ""
        apiSecret = environment["FIVETRAN_API_SECRET"] ?? ""
        groupID = environment["FIVETRAN_GROUP_ID"] ?? ""
        legacyPaths = environment["FIVETRAN_PATHS"] == "legacy"
        cardHost = (environment["FIVETRAN_CARD_HOST"] ?? "fivetran.com").lowercased()
        metadataTTL = .seconds(Int(environment["FIVETRAN_METADATA_TTL"] ?? "") ?? 3600)
        connectionsTTL = .seconds(Int(environment["FIVETRAN_CONNECTIONS_TTL"] ?? "") ?? 30)
    }

    /// What is missing for Fivetran to be usable, in words, or nil when all is set.
    public var missing: String? {
        let names = [("FIVETRAN_API_KEY", apiKey), ("FIVETRAN_API_SECRET", apiSecret), ("FIVETRAN_GROUP_ID", groupID)]
            .filter { $0.1.isEmpty }.map(\.0)
        return names.isEmpty ? nil : "Set \(names.joined(separator: ", ")) (or run `make run` without them to use the sandbox)."
    }

    /// Whether a Connect Card URI may be followed: https (or the sandbox's http) on the card host
    /// or one of its subdomains.
    public func allowsCard(_ url: URL) -> Bool {
        guard let host = url.host?.lowercased(), let scheme = url.scheme?.lowercased() else { return false }
        guard host == cardHost || host.hasSuffix("." + cardHost) else { return false }
        return scheme == "https" || (scheme == "http" && (host == "127.0.0.1" || host == "localhost"))
    }
}
