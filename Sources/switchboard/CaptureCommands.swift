import App
import ArgumentParser
import Capture
import Foundation
import Model
import ServiceLifecycle
import Store

/// `switchboard capture`: one Front capture from the command line, the engine the job runner uses.
struct CaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Copy Front resources into local collections (one run).",
        discussion: """
            The config file (JSON or YAML) is Estuary source-front's: config.credentials.access_token, \
            config.start_date (YYYY-MM-DDTHH:MM:SSZ, optional) and bindings of resource name to target \
            collection; see examples/capture.json. FRONT_API_TOKEN, when set, replaces the file's token; \
            FRONT_BASE_URL replaces https://api2.frontapp.com; FRONT_MINUTE_SECONDS (set by the sandbox \
            when it shortens its rate-limit minute) paces to that minute. Ctrl-C stops between pages; the next run \
            continues from the last checkpoint.
            """)

    @Option(name: .long, help: "The capture's configuration file (JSON or YAML).")
    var config: String

    @Option(name: .long, help: "SQLite database (default: $SWITCHBOARD_DB or var/switchboard.sqlite).")
    var db: String?

    func run() async throws {
        var configuration = try await App.Configuration.load()
        if let db { configuration.databasePath = db }
        let contents: Data
        do {
            contents = try Data(contentsOf: URL(fileURLWithPath: config))
        } catch {
            throw fail("cannot read \(config): \(error.localizedDescription)")
        }
        let captureConfig: CaptureConfig
        do {
            captureConfig = try CaptureConfig.parse(contents, tokenOverride: configuration.frontTokenOverride)
        } catch {
            throw fail("\(config): \(error)")
        }
        let services: Services
        do {
            services = try Services(configuration: configuration, logger: makeLogger("switchboard-capture"))
        } catch {
            throw fail("\(error)")
        }
        let capture = CaptureService(
            engine: services.captureEngine(for: captureConfig),
            display: ProgressDisplay(interactive: isatty(STDERR_FILENO) == 1))
        do {
            // Ctrl-C or SIGTERM stop the run between pages; the next run continues from its checkpoints.
            try await services.run([capture])
        } catch {
            throw fail("capture failed:\n\(error)")
        }
    }
}

/// One capture run as a service, so that the service group owns Ctrl-C and SIGTERM: either
/// stops the run between pages, and what was committed stays.
private struct CaptureService: Service {
    let engine: CaptureEngine
    let display: ProgressDisplay

    func run() async throws {
        let run = engine.start()
        let summary: CaptureSummary
        do {
            summary = try await withTaskCancellationOrGracefulShutdownHandler {
                for await progress in run.progress { display.show(progress) }
                return try await run.result()
            } onCancelOrGracefulShutdown: {
                run.cancel()
            }
        } catch {
            display.finish()
            throw error
        }
        display.finish()
        FileHandle.standardError.write(
            Data("capture done: \(summary.requests) requests, \(summary.written) documents written\n".utf8))
    }
}

/// `switchboard export`: a collection as NDJSON on stdout, streamed from the database.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a collection's live documents as NDJSON (one per line, in key order).")

    @Argument(help: "The collection, e.g. acme/conversations.")
    var collection: String

    @Option(name: .long, help: "SQLite database (default: $SWITCHBOARD_DB or var/switchboard.sqlite).")
    var db: String?

    func run() throws {
        let path = App.Configuration(database: db).databasePath
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no database at \(path)") }
        do {
            let store = try Services.openStore(App.Configuration(database: db))
            let known = try store.collections().map(\.name)
            guard known.contains(collection) else {
                throw fail(
                    "no collection \(collection) in \(path)"
                        + (known.isEmpty ? "" : "; there are: \(known.joined(separator: ", "))"))
            }
            var buffer = Data()
            buffer.reserveCapacity(1 << 16)
            try store.forEachDocument(in: collection) { document in
                buffer.append(document.json)
                buffer.append(0x0A)
                if buffer.count >= 1 << 16 {
                    FileHandle.standardOutput.write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            FileHandle.standardOutput.write(buffer)
        } catch let error as StoreError {
            throw fail(error.description)
        }
    }
}

/// Prints the message on stderr and answers the error that makes the command exit 1.
private func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("switchboard: \(message)\n".utf8))
    return ExitCode.failure
}

/// Progress on stderr: one redrawn line on a terminal, plain lines (state changes and every
/// tenth page) otherwise.
private final class ProgressDisplay: @unchecked Sendable {
    private let interactive: Bool
    private var latest: [String: BindingProgress] = [:]
    private var drawn = false

    init(interactive: Bool) { self.interactive = interactive }

    func show(_ progress: BindingProgress) {
        let previous = latest[progress.name]
        latest[progress.name] = progress
        if interactive {
            let parts = latest.values.sorted { $0.name < $1.name }.map { item in
                let mark =
                    switch item.state {
                    case .waiting: "…"
                    case .running: "▸"
                    case .done: "✓"
                    case .cancelled: "■"
                    case .failed: "✗"
                    }
                return "\(mark)\(item.resource) \(item.documents)"
            }
            let requests = latest.values.reduce(0) { $0 + $1.requests }
            write("\r\u{1B}[K\(parts.joined(separator: "  "))  [\(requests) req]")
            drawn = true
        } else if previous?.state != progress.state || progress.pages % 10 == 0 && previous?.pages != progress.pages {
            write(progress.line + "\n")
        }
    }

    func finish() {
        if interactive && drawn {
            write("\n")
            for progress in latest.values.sorted(by: { $0.name < $1.name }) { write(progress.line + "\n") }
        }
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}

extension BindingProgress {
    /// One plain line, as the CLI prints it when stderr is not a terminal.
    fileprivate var line: String {
        var text = "\(name) (\(resource)): \(state.rawValue)"
        if let error { text += ": \(error)" }
        text += ", \(pages) pages, \(requests) requests, \(documents) written"
        if deleted > 0 { text += ", \(deleted) deleted" }
        if let positionDate { text += ", at \(positionDate.formatted(.iso8601))" }
        if let fraction, state == .running { text += " (\(Int((fraction * 100).rounded(.down))) %)" }
        return text
    }
}
