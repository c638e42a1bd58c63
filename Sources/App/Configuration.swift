import Foundation
import Jobs
import Store

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
    /// How many times a job is claimed before it ends failed (`SWITCHBOARD_JOB_MAX_ATTEMPTS`,
    /// default 3): a run that kills its worker, or keeps failing, is not retried forever.
    public var jobMaxAttempts: Int
    /// Worker threads that may wait on a live Fivetran call at once (`SWITCHBOARD_FIVETRAN_CALLS`,
    /// default 4); keep it below `serve --threads` so pages that need no call always get a thread.
    public var fivetranLiveCalls: Int
    /// Restarts of the worker before this process, as its supervisor counts them
    /// (`SWITCHBOARD_WORKER_RESTARTS`), exported on `/metrics`.
    public var workerRestarts: Int
    /// NDJSON downloads written at once by one worker (`SWITCHBOARD_EXPORTS`, default 2); more
    /// get 503 with `Retry-After`, so downloads never crowd out the pages.
    public var concurrentExports: Int
    /// A group that may read the database (`SWITCHBOARD_DB_GROUP`, a name or number): its files
    /// are then 0640 with that group instead of 0600. Unknown names are an error at start-up.
    public var databaseGroup: String?
    /// How fast one download is written, in bytes a second (`SWITCHBOARD_EXPORT_MBPS`, megabytes a
    /// second, default 8): what keeps downloads from taking the CPU the pages need.
    public var exportBytesPerSecond: Int

    public static let version = "0.1.0"

    /// Front's rate-limit minute in seconds (`FRONT_MINUTE_SECONDS`, set by the sandbox when it shortens it).
    public var frontMinute: Double = 60

    /// How the job runner runs, from the settings above.
    public var jobRunnerOptions: JobRunner.Options {
        JobRunner.Options(
            concurrency: jobConcurrency, lease: .seconds(jobLeaseSeconds), maxAttempts: jobMaxAttempts,
            frontBaseURL: frontBaseURL, frontMinute: frontMinute)
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
        if let minute = environment["FRONT_MINUTE_SECONDS"].flatMap(Double.init), minute.isFinite, minute > 0, minute <= 3600 {
            self.frontMinute = minute
        }
        self.apiTokens = (environment["SWITCHBOARD_API_TOKENS"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        self.frontBaseURL = environment["FRONT_BASE_URL"].flatMap { $0.isEmpty ? nil : URL(string: $0) }
            ?? URL(string: "https://api2.frontapp.com")!
        self.runJobs = true
        self.jobConcurrency = bounded(environment["SWITCHBOARD_JOB_CONCURRENCY"], 1...64, default: 2)
        self.jobLeaseSeconds = bounded(environment["SWITCHBOARD_JOB_LEASE_SECONDS"], 2...3600, default: 10)
        self.jobMaxAttempts = bounded(environment["SWITCHBOARD_JOB_MAX_ATTEMPTS"], 1...100, default: 3)
        self.fivetranLiveCalls = bounded(environment["SWITCHBOARD_FIVETRAN_CALLS"], 1...64, default: 4)
        self.databaseGroup = environment["SWITCHBOARD_DB_GROUP"].flatMap { $0.isEmpty ? nil : $0 }
        self.concurrentExports = bounded(environment["SWITCHBOARD_EXPORTS"], 1...64, default: 2)
        self.exportBytesPerSecond = bounded(environment["SWITCHBOARD_EXPORT_MBPS"], 1...10_000, default: 8) * 1_000_000
        self.workerRestarts = bounded(environment["SWITCHBOARD_WORKER_RESTARTS"], 0...1_000_000_000, default: 0)
    }
}

extension Configuration {
    /// Refuses, before anything starts, the settings that could not work at all, saying which.
    public func check() throws(ConfigurationError) {
        guard let url = URL(string: publicURL), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else { throw .notAURL(name: "SWITCHBOARD_PUBLIC_URL", value: publicURL) }
        _ = try databaseGroupID()
    }

    /// The group id of `SWITCHBOARD_DB_GROUP`, nil when none is named.
    public func databaseGroupID() throws(ConfigurationError) -> gid_t? {
        guard let name = databaseGroup else { return nil }
        if let number = gid_t(name) { return number }
        guard let entry = getgrnam(name) else { throw .unknownGroup(name) }
        return entry.pointee.gr_gid
    }

    /// The store at `databasePath`, its files private (or shared with `SWITCHBOARD_DB_GROUP`).
    public func openStore() throws -> SQLiteStore {
        try SQLiteStore(path: databasePath, group: try databaseGroupID())
    }
}

/// A setting that cannot be used, named, with its value (never a secret's).
public enum ConfigurationError: Error, CustomStringConvertible {
    case notAURL(name: String, value: String)
    case unknownGroup(String)

    public var description: String {
        switch self {
        case .notAURL(let name, let value):
            "\(name) must be an http(s) URL such as https://switchboard.example.com; got \"\(value.prefix(200))\""
        case .unknownGroup(let name):
            "SWITCHBOARD_DB_GROUP names the group \"\(name.prefix(64))\", which this system does not have; create it or unset the variable"
        }
    }
}

/// A whole number from the environment within `range`; absent, unreadable or out-of-range
/// values take `fallback` (clamped, so `SWITCHBOARD_JOB_CONCURRENCY=99999` means 64).
func bounded(_ text: String?, _ range: ClosedRange<Int>, default fallback: Int) -> Int {
    guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return fallback }
    guard let value = Int(text) else { return fallback }
    return min(range.upperBound, max(range.lowerBound, value))
}

/// The key that signs CSRF tokens and seals stored Front tokens. Made on first start, so every
/// worker process and every restart share it.
///
/// It is written whole to a private temporary file (mode 0600 from its first byte, never chmodded
/// after) and linked into place, so a process starting at the same moment either sees the whole
/// key or makes none and reads the winner's. A key file that group or others may read or write
/// is refused: it would let them forge forms and open every stored token.
public enum SecretKey {
    public static func loadOrCreate(at path: String) throws(SecretKeyError) -> [UInt8] {
        if let key = try read(path) { return key }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let temporary = "\(path).new-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotCreate(path) }
        defer { unlink(temporary) }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == key.count, synced else { throw .cannotCreate(path) }
        if link(temporary, path) != 0 {
            // Another process made it first: use theirs.
            guard errno == EEXIST, let theirs = try read(path) else { throw .cannotCreate(path) }
            return theirs
        }
        return key
    }

    /// The key at `path`, nil when there is no file.
    private static func read(_ path: String) throws(SecretKeyError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw .unreadable(path, String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path, String(cString: strerror(errno))) }
        let loose = info.st_mode & 0o077
        guard loose == 0 else { throw .tooOpen(path, mode: info.st_mode & 0o777) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else { throw .unreadable(path, String(cString: strerror(errno))) }
        guard count >= 32 else { throw .tooShort(path) }
        return Array(bytes.prefix(count))
    }
}

public enum SecretKeyError: Error, CustomStringConvertible {
    case tooShort(String)
    case cannotCreate(String)
    case unreadable(String, String)
    case tooOpen(String, mode: mode_t)

    public var description: String {
        switch self {
        case .tooShort(let path): "secret key file \(path) holds fewer than 32 bytes; delete it to have a new one made"
        case .cannotCreate(let path): "cannot create the secret key file \(path): is its folder writable?"
        case .unreadable(let path, let why): "cannot read the secret key file \(path): \(why)"
        case .tooOpen(let path, let mode):
            "secret key file \(path) has mode \(String(mode, radix: 8)), so other users can read or change it; "
                + "run `chmod 600 \(path)` (and make the service's user its owner), then start again"
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
        metadataTTL = .seconds(bounded(environment["FIVETRAN_METADATA_TTL"], 0...604_800, default: 3600))
        connectionsTTL = .seconds(bounded(environment["FIVETRAN_CONNECTIONS_TTL"], 0...604_800, default: 30))
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
