import Configuration
import Foundation
import Jobs
import Model
import Store
import SystemPackage

/// Everything the worker reads from its environment (and a few command-line overrides), read
/// once at start-up. Secrets stay in here and are never rendered, logged or returned.
public struct Configuration: Sendable {
    public var templatesDirectory: String
    public var databasePath: String
    /// `SWITCHBOARD_DATABASE_URL` (`postgres://…`): the store in PostgreSQL, shared by every
    /// host; nil keeps SQLite at `databasePath`. A secret (it holds a password): never shown.
    public var databaseURL: String?
    /// Connections one process opens to PostgreSQL at most (`SWITCHBOARD_DATABASE_POOL_SIZE`,
    /// default 8): the FastCGI threads and the job runner share them.
    public var databasePoolSize: Int
    public var publicURL: String
    public var secretKeyFile: String
    /// True when the Fivetran and Front APIs are the local stand-ins (`switchboard-sandbox`).
    public var sandbox: Bool
    public var version: String
    public var fivetran: FivetranSettings
    /// Bearer tokens accepted on `/api/` besides those made on /settings (`SWITCHBOARD_API_TOKENS`).
    public var apiTokens: [String]
    /// Front's API (`FRONT_BASE_URL`), for the job runner and the capture command.
    public var frontBaseURL: URL
    /// `FRONT_BASE_URL` as given, so that a value that is not a URL is refused by name.
    var frontBaseURLText: String?
    /// `FRONT_API_TOKEN`: replaces the token of a capture's config file (`switchboard capture`).
    public var frontTokenOverride: String?
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
    /// Ended jobs kept per capture (`SWITCHBOARD_JOBS_KEPT`, default 100); older ones are removed
    /// when a job of the capture ends.
    public var jobsKept: Int
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
    /// How long audit entries are kept, in days (`SWITCHBOARD_AUDIT_DAYS`, default 365): older
    /// ones are removed at start-up and then daily, the only deletion of the audit there is.
    public var auditDays: Int
    /// Unknown bearer tokens one address may send in a minute before it is answered 429
    /// (`SWITCHBOARD_API_FAILURES_PER_MINUTE`, default 10): slows guessing; `scripts/api-fuzz`
    /// raises it, because its checks send bad tokens on purpose.
    public var apiFailuresPerMinute: Int

    public static let version = "0.1.0"

    /// How the job runner runs, from the settings above.
    public var jobRunnerOptions: JobRunner.Options {
        JobRunner.Options(
            concurrency: jobConcurrency, lease: .seconds(jobLeaseSeconds), maxAttempts: jobMaxAttempts,
            frontBaseURL: frontBaseURL, jobsKept: jobsKept)
    }

    /// Reads every setting from `reader` (environment variables, and an env file when one is
    /// named; see `load`). Numbers out of range are clamped, unreadable ones take the default.
    public init(reader: ConfigReader, templatesDirectory: String? = nil) {
        let port = reader.string(forKey: "port") ?? "8080"
        self.templatesDirectory = templatesDirectory ?? reader.nonEmpty("switchboard.templates") ?? "templates"
        self.databasePath = reader.nonEmpty("switchboard.db") ?? "var/switchboard.sqlite"
        self.databaseURL = reader.string(forKey: "switchboard.database.url", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        self.databasePoolSize = reader.bounded("switchboard.database.pool.size", 1...100, default: 8)
        self.publicURL = (reader.nonEmpty("switchboard.public.url") ?? "http://127.0.0.1:\(port)")
            .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.secretKeyFile = reader.nonEmpty("switchboard.secret.key.file") ?? "var/secret.key"
        self.sandbox = reader.string(forKey: "switchboard.sandbox") == "1"
        self.version = Self.version
        self.fivetran = FivetranSettings(reader: reader)
        self.apiTokens = (reader.string(forKey: "switchboard.api.tokens", isSecret: true) ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        self.frontBaseURLText = reader.nonEmpty("front.base.url")
        self.frontBaseURL = frontBaseURLText.flatMap(URL.init(string:)) ?? Self.frontDefault
        self.frontTokenOverride = reader.string(forKey: "front.api.token", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        self.runJobs = true
        self.jobConcurrency = reader.bounded("switchboard.job.concurrency", 1...64, default: 2)
        self.jobLeaseSeconds = reader.bounded("switchboard.job.lease.seconds", 2...3600, default: 10)
        self.jobMaxAttempts = reader.bounded("switchboard.job.max.attempts", 1...100, default: 3)
        self.jobsKept = reader.bounded("switchboard.jobs.kept", 1...100_000, default: 100)
        self.fivetranLiveCalls = reader.bounded("switchboard.fivetran.calls", 1...64, default: 4)
        self.databaseGroup = reader.nonEmpty("switchboard.db.group")
        self.concurrentExports = reader.bounded("switchboard.exports", 1...64, default: 2)
        self.exportBytesPerSecond = reader.bounded("switchboard.export.mbps", 1...10_000, default: 8) * 1_000_000
        self.workerRestarts = reader.bounded("switchboard.worker.restarts", 0...1_000_000_000, default: 0)
        self.auditDays = reader.bounded("switchboard.audit.days", 1...36_500, default: 365)
        self.apiFailuresPerMinute = reader.bounded("switchboard.api.failures.per.minute", 1...1_000_000, default: 10)
    }

    /// The settings of this process: its environment, then (for what the environment does not
    /// set) the env file named by `SWITCHBOARD_ENV_FILE`, if any.
    public static func load(
        environment variables: [String: String] = ProcessInfo.processInfo.environment, templatesDirectory: String? = nil
    ) async throws -> Configuration {
        let environment = EnvironmentVariablesProvider(environmentVariables: variables, secretsSpecifier: secrets)
        var providers: [any ConfigProvider] = [environment]
        if let file = try environment.environmentValue(forName: "SWITCHBOARD_ENV_FILE"), !file.isEmpty {
            providers.append(
                try await EnvironmentVariablesProvider(environmentFilePath: FilePath(file), secretsSpecifier: secrets))
        }
        return Configuration(reader: ConfigReader(providers: providers), templatesDirectory: templatesDirectory)
    }

    /// Settings from a dictionary of environment variables (tests, and the commands' defaults).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, templatesDirectory: String? = nil) {
        self.init(
            reader: ConfigReader(
                provider: EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: Self.secrets)),
            templatesDirectory: templatesDirectory)
    }

    /// This process's settings with the database at `path` when one is given (`--db`).
    public init(database path: String?) {
        self.init()
        if let path { databasePath = path }
    }

    /// The variables whose values are never printed (swift-configuration redacts them).
    static let secrets: SecretsSpecifier<String, String> = .specific([
        "FIVETRAN_API_KEY", "FIVETRAN_API_SECRET", "FRONT_API_TOKEN", "SWITCHBOARD_API_TOKENS", "SWITCHBOARD_DATABASE_URL",
    ])

    static let frontDefault = URL(string: "https://api2.frontapp.com") ?? URL(fileURLWithPath: "/")
}

extension ConfigReader {
    /// A string setting, nil when absent or empty.
    func nonEmpty(_ key: ConfigKey) -> String? {
        string(forKey: key).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A whole number setting within `range`; absent or unreadable values take `fallback`, and
    /// values out of range are clamped (`SWITCHBOARD_JOB_CONCURRENCY=99999` means 64).
    func bounded(_ key: ConfigKey, _ range: ClosedRange<Int>, default fallback: Int) -> Int {
        guard let text = string(forKey: key)?.trimmingCharacters(in: .whitespaces), !text.isEmpty,
            let value = Int(text)
        else { return fallback }
        return min(range.upperBound, max(range.lowerBound, value))
    }
}

extension Configuration {
    /// Refuses, before anything starts, the settings that could not work at all, saying which.
    public func check() throws(ConfigurationError) {
        guard let url = URL(string: publicURL), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else { throw .notAURL(name: "SWITCHBOARD_PUBLIC_URL", value: publicURL) }
        if let text = frontBaseURLText {
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil
            else { throw .notAURL(name: "FRONT_BASE_URL", value: text) }
        }
        _ = try databaseGroupID()
    }

    /// The group id of `SWITCHBOARD_DB_GROUP`, nil when none is named.
    public func databaseGroupID() throws(ConfigurationError) -> gid_t? {
        guard let name = databaseGroup else { return nil }
        if let number = gid_t(name) { return number }
        guard let entry = getgrnam(name) else { throw .unknownGroup(name) }
        return entry.pointee.gr_gid
    }

    /// The store: PostgreSQL at `databaseURL` when one is set, else SQLite at `databasePath`,
    /// its files private (or shared with `SWITCHBOARD_DB_GROUP`).
    public func openStore() throws -> any SwitchboardStore {
        if let databaseURL { return try PostgresStore(url: databaseURL, poolSize: databasePoolSize) }
        return try SQLiteStore(path: databasePath, group: try databaseGroupID())
    }

    /// Where the store is, for messages: the file, or the PostgreSQL URL without its password.
    public var databaseDescription: String {
        databaseURL.map(PostgresStore.redacted) ?? databasePath
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

    init(reader: ConfigReader) {
        baseURL = reader.nonEmpty("fivetran.base.url").flatMap { URL(string: $0) } ?? Self.defaultBaseURL
        apiKey = reader.string(forKey: "fivetran.api.key", isSecret: true) ?? ""
        apiSecret = reader.string(forKey: "fivetran.api.secret", isSecret: true) ?? ""
        groupID = reader.string(forKey: "fivetran.group.id") ?? ""
        legacyPaths = reader.string(forKey: "fivetran.paths") == "legacy"
        cardHost = (reader.nonEmpty("fivetran.card.host") ?? "fivetran.com").lowercased()
        metadataTTL = .seconds(reader.bounded("fivetran.metadata.ttl", 0...604_800, default: 3600))
        connectionsTTL = .seconds(reader.bounded("fivetran.connections.ttl", 0...604_800, default: 30))
    }

    static let defaultBaseURL = URL(string: "https://api.fivetran.com") ?? URL(fileURLWithPath: "/")

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
