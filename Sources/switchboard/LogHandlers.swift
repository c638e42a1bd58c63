import FastCGI
import Foundation
import Logging
import Synchronization

/// Sets up logging for this process and answers its logger.
///
/// - Default: text lines on stderr (swift-log's `StreamLogHandler`).
/// - `SWITCHBOARD_LOG_FORMAT=json`: one JSON object per line, with `time`, `level`, `label`,
///   `message` and every metadata key (`request_id`, `job_id`, …).
/// - `SWITCHBOARD_LOG_FILE=PATH`: stderr itself is pointed at PATH (appending), so the log lines
///   and anything else the process writes there (a crash report) land in the file. SIGUSR1
///   reopens it, as nginx does, for logrotate; `reopenOnSIGUSR1: false` leaves that signal to the
///   caller (the supervisor calls `LogOutput.reopen()` itself and passes the signal on).
/// - `SWITCHBOARD_LOG_LEVEL`: `debug`, `info` (default), `warning`, …
func makeLogger(_ label: String, reopenOnSIGUSR1: Bool = true) -> Logger {
    let environment = ProcessInfo.processInfo.environment
    let level = environment["SWITCHBOARD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    var problems: [String] = []
    if let path = environment["SWITCHBOARD_LOG_FILE"], !path.isEmpty {
        if let problem = LogOutput.open(path) {
            problems.append(problem)
        } else if reopenOnSIGUSR1 {
            do {
                try SignalPipe.onSignal(SIGUSR1) { _ = LogOutput.reopen() }
            } catch {
                problems.append("SIGUSR1 will not reopen the log file: \(error)")
            }
        }
    }
    let format = environment["SWITCHBOARD_LOG_FORMAT"]?.lowercased() ?? "text"
    if format != "text" && format != "json" {
        problems.append("SWITCHBOARD_LOG_FORMAT=\(format) is neither text nor json; writing text")
    }
    LoggingSystem.bootstrap { label in
        if format == "json" {
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    let logger = Logger(label: label)
    for problem in problems { logger.warning("\(problem)") }
    return logger
}

/// The log file behind stderr, when `SWITCHBOARD_LOG_FILE` is set.
enum LogOutput {
    private static let path = Mutex<String?>(nil)

    /// Points stderr at `file` (append, created 0640); answers what went wrong, if anything
    /// (then logs stay on the old stderr).
    static func open(_ file: String) -> String? {
        path.withLock { $0 = file }
        return reopen()
    }

    /// Opens the file again by name and puts it behind stderr in one `dup2`, so that no line
    /// is lost or half-written while logrotate renames the old one. Answers a problem, if any.
    @discardableResult
    static func reopen() -> String? {
        guard let file = path.withLock({ $0 }) else { return nil }
        let fd = Glibc.open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            return "cannot open SWITCHBOARD_LOG_FILE=\(file) (\(String(cString: strerror(errno)))): "
                + "logging to stderr instead; create its folder or make it writable"
        }
        defer { _ = close(fd) }
        guard dup2(fd, 2) >= 0 else {
            return "cannot point stderr at SWITCHBOARD_LOG_FILE=\(file) (\(String(cString: strerror(errno))))"
        }
        return nil
    }
}

/// One JSON object per line on stderr, for log shippers: `time` (RFC 3339 UTC, milliseconds),
/// `level`, `label`, `message`, then every metadata key (the handler's, the provider's, the
/// call's; a key named like one of the four fixed ones is written with a `meta_` prefix).
/// Each line goes out in one `write`, so lines from several threads or processes never mix.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let given = event.metadata { merged.merge(given) { $1 } }
        var line = "{\"time\":\(Self.quote(Self.timestamp())),\"level\":\(Self.quote(event.level.rawValue))"
        line += ",\"label\":\(Self.quote(label)),\"message\":\(Self.quote(event.message.description))"
        for key in merged.keys.sorted() {
            guard let value = merged[key] else { continue }
            let name = ["time", "level", "label", "message"].contains(key) ? "meta_" + key : key
            line += ",\(Self.quote(name)):\(Self.json(value))"
        }
        line += "}\n"
        let bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                buffer.baseAddress.map { write(2, $0 + offset, buffer.count - offset) } ?? -1
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): quote(text)
        case .stringConvertible(let item): quote(item.description)
        case .array(let items): "[" + items.map(json).joined(separator: ",") + "]"
        case .dictionary(let items):
            "{" + items.keys.sorted().compactMap { key in items[key].map { "\(quote(key)):\(json($0))" } }.joined(separator: ",")
                + "}"
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Now in UTC, `2026-12-01T10:00:00.123Z`, without a shared formatter (thread-safe).
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
            + ".\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
