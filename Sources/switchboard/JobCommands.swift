import App
import ArgumentParser
import Foundation
import Logging
import Store

/// `switchboard jobs`: the job runner alone, until SIGTERM or SIGINT.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Run queued capture jobs (the runner that `serve` also runs, unless --no-jobs).",
        discussion: """
            Reads SWITCHBOARD_DB, SWITCHBOARD_SECRET_KEY_FILE, FRONT_BASE_URL, SWITCHBOARD_JOB_CONCURRENCY and \
            SWITCHBOARD_JOB_LEASE_SECONDS. Any number of runners may share one database: each job runs once. \
            On SIGTERM, running jobs stop between pages and are handed back to be resumed.
            """)

    @Option(help: "Jobs run at once (default: $SWITCHBOARD_JOB_CONCURRENCY or 2).")
    var concurrency: Int?

    func run() async throws {
        let logger = makeLogger("switchboard-jobs")
        do {
            var configuration = try await App.Configuration.load()
            if let concurrency { configuration.jobConcurrency = max(1, concurrency) }
            try await Services(configuration: configuration, logger: logger).runJobs()
        } catch {
            logger.critical("cannot run jobs: \(error)")
            throw ExitCode.failure
        }
    }
}

/// `switchboard token create --name N`: an API token for scripts, printed once.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage API tokens for /api/.", subcommands: [Create.self, Count.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API token and print it (only its hash is stored; it cannot be shown again).")

        @Option(help: "Who or what uses the token, such as a script's name.")
        var name: String

        @Option(
            name: .long,
            help:
                "SQLite database (default: $SWITCHBOARD_DB or var/switchboard.sqlite; unused when $SWITCHBOARD_DATABASE_URL is set)."
        )
        var db: String?

        func run() throws {
            do {
                let store = try Services.openStore(App.Configuration(database: db))
                // The audit names the command line's user as the token's maker.
                let user = ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(getuid())"
                print(try APITokenMaker.create(in: store, name: name, by: "cli:\(user)"))
            } catch {
                FileHandle.standardError.write(Data("switchboard: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }

    struct Count: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print how many live API tokens there are.")

        @Option(
            name: .long,
            help:
                "SQLite database (default: $SWITCHBOARD_DB or var/switchboard.sqlite; unused when $SWITCHBOARD_DATABASE_URL is set)."
        )
        var db: String?

        func run() throws {
            do {
                print(try Services.openStore(App.Configuration(database: db)).liveAPITokenCount())
            } catch {
                FileHandle.standardError.write(Data("switchboard: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}
