import App
import ArgumentParser
import Capture
import Foundation
import Front
import Model
import ServiceLifecycle
import Store

/// `switchboard capture`: Front captures from the command line, the engine the job runner uses.
struct CaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Copy Front resources into local collections (one run).",
        discussion: """
            The config file (JSON or YAML) is Estuary source-front's: config.credentials.access_token, \
            config.start_date (YYYY-MM-DDTHH:MM:SSZ, optional) and bindings of resource name to target \
            collection; see examples/capture.json. FRONT_API_TOKEN, when set, replaces the file's token; \
            FRONT_BASE_URL replaces https://api2.frontapp.com. Several --config run at once, the configs of \
            one Front company on its one rate budget (as the job runner's jobs do). Ctrl-C stops between \
            pages; the next run continues from the last checkpoint.
            """)

    @Option(name: .long, help: "A capture's configuration file (JSON or YAML); repeat to run several at once.")
    var config: [String]

    @Option(
        name: .long,
        help:
            "SQLite database (default: $SWITCHBOARD_DB or var/switchboard.sqlite; unused when $SWITCHBOARD_DATABASE_URL is set).")
    var db: String?

    func validate() throws {
        guard !config.isEmpty else { throw ValidationError("give at least one --config FILE") }
    }

    func run() async throws {
        var configuration = try await App.Configuration.load()
        if let db { configuration.databasePath = db }
        var configs: [(file: String, config: CaptureConfig)] = []
        var writers: [String: String] = [:]
        for file in config {
            let contents: Data
            do {
                contents = try Data(contentsOf: URL(fileURLWithPath: file))
            } catch {
                throw fail("cannot read \(file): \(error.localizedDescription)")
            }
            let captureConfig: CaptureConfig
            do {
                captureConfig = try CaptureConfig.parse(contents, tokenOverride: configuration.frontTokenOverride)
            } catch {
                throw fail("\(file): \(error)")
            }
            for binding in captureConfig.bindings {
                if let other = writers[binding.collection] {
                    throw fail("\(file) and \(other) both write \(binding.collection); give each config its own targets")
                }
                writers[binding.collection] = file
            }
            configs.append((file, captureConfig))
        }
        let services: Services
        do {
            services = try Services(configuration: configuration, logger: makeLogger("switchboard-capture"))
        } catch {
            throw fail("\(error)")
        }
        // `/me` for each config before any list is read: a refused token stops here, in words.
        var engines: [(engine: CaptureEngine, connection: FrontConnection)] = []
        for (file, captureConfig) in configs {
            do {
                engines.append(try await services.captureEngine(for: captureConfig))
            } catch {
                throw fail("\(file): \(error.description)")
            }
        }
        let capture = CaptureService(
            engines: engines, display: ProgressDisplay(interactive: isatty(STDERR_FILENO) == 1))
        do {
            // Ctrl-C or SIGTERM stop the run between pages; the next run continues from its checkpoints.
            try await services.run([capture])
        } catch {
            throw fail("capture failed:\n\(error)")
        }
    }
}

/// The capture runs as one service, so that the service group owns Ctrl-C and SIGTERM: either
/// stops every run between pages, and what was committed stays. It ends when the last run does.
private struct CaptureService: Service {
    let engines: [(engine: CaptureEngine, connection: FrontConnection)]
    let display: ProgressDisplay

    func run() async throws {
        let runs = engines.map { (run: $0.engine.start(), connection: $0.connection) }
        let results: [Result<CaptureSummary, CaptureError>] = await withTaskCancellationOrGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for entry in runs {
                    group.addTask { for await progress in entry.run.progress { display.show(progress) } }
                }
            }
            var results: [Result<CaptureSummary, CaptureError>] = []
            for entry in runs {
                do throws(CaptureError) {
                    results.append(.success(try await entry.run.result()))
                } catch {
                    results.append(.failure(error))
                }
            }
            return results
        } onCancelOrGracefulShutdown: {
            for entry in runs { entry.run.cancel() }
        }
        display.finish()
        var failures: [String] = []
        var requests = 0
        var written = 0
        for (entry, result) in zip(runs, results) {
            // Each run's `/me` counts among the requests.
            requests += entry.connection.requests
            switch result {
            case .success(let summary):
                requests += summary.requests
                written += summary.written
            case .failure(let error):
                failures.append(runs.count > 1 ? "\(entry.connection.company.id): \(error)" : "\(error)")
            }
        }
        let companies = Set(runs.map(\.connection.company.id)).sorted().joined(separator: ", ")
        guard failures.isEmpty else { throw CaptureFailures(messages: failures) }
        FileHandle.standardError.write(
            Data("capture done: \(requests) requests, \(written) documents written (Front company \(companies))\n".utf8))
    }
}

/// What failed of the runs, one line each.
private struct CaptureFailures: Error, CustomStringConvertible {
    let messages: [String]
    var description: String { messages.joined(separator: "\n") }
}

/// `switchboard export`: a collection as NDJSON on stdout, streamed from the database.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a collection's live documents as NDJSON (one per line, in key order).")

    @Argument(help: "The collection, e.g. acme/conversations.")
    var collection: String

    @Option(
        name: .long,
        help:
            "SQLite database (default: $SWITCHBOARD_DB or var/switchboard.sqlite; unused when $SWITCHBOARD_DATABASE_URL is set).")
    var db: String?

    func run() throws {
        let configuration = App.Configuration(database: db)
        let path = configuration.databaseDescription
        if configuration.databaseURL == nil {
            guard FileManager.default.fileExists(atPath: path) else { throw fail("no database at \(path)") }
        }
        do {
            let store = try Services.openStore(configuration)
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
/// tenth page) otherwise. Several runs report at once, so one lock orders what they show.
private final class ProgressDisplay: @unchecked Sendable {
    private let interactive: Bool
    private let lock = NSLock()
    private var latest: [String: BindingProgress] = [:]
    private var drawn = false

    init(interactive: Bool) { self.interactive = interactive }

    func show(_ progress: BindingProgress) {
        lock.lock()
        defer { lock.unlock() }
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
        lock.lock()
        defer { lock.unlock() }
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
