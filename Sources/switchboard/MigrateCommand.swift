import App
import ArgumentParser
import Foundation
import Store

/// `switchboard migrate --to postgres://…`: moves a team from the embedded SQLite file to a
/// PostgreSQL database that several hosts share (docs/scaling.md).
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy the SQLite database into an empty PostgreSQL database, then check the counts.",
        discussion: """
            Stop the workers first (a job that runs meanwhile is not copied past the moment the copy \
            began). Everything is copied: captures with their sealed tokens, checkpoints, collections, \
            jobs, API tokens, connector names and the audit, ids included, in one transaction: either \
            all of it lands or none does. Then point every host at it with SWITCHBOARD_DATABASE_URL \
            and the same secret key file (the sealed tokens need it).
            """)

    @Option(
        help: ArgumentHelp(
            "The PostgreSQL database to fill: postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=…] (default: $SWITCHBOARD_DATABASE_URL).",
            discussion: "The variable keeps the password off the command line, where other users' ps could see it."))
    var to: String?

    @Option(name: .long, help: "The SQLite database to copy (default: $SWITCHBOARD_DB or var/switchboard.sqlite).")
    var db: String?

    func run() throws {
        let configuration = App.Configuration(database: db)
        guard let url = to ?? configuration.databaseURL else {
            throw ValidationError("Give --to postgres://USER:PASSWORD@HOST:PORT/DB, or set SWITCHBOARD_DATABASE_URL.")
        }
        let path = configuration.databasePath
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("There is no SQLite database at \(path) to copy; give --db PATH.")
        }
        do {
            let source = try SQLiteStore(path: path)
            let target = try PostgresStore(url: url, poolSize: 2)
            let started = Date()
            let counts = try target.copy(from: source) { table, rows in
                if rows % 50_000 == 0 { FileHandle.standardError.write(Data("  \(table): \(rows) rows…\n".utf8)) }
            }
            print(
                "copied \(path) into \(PostgresStore.redacted(url)) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s:"
            )
            for count in counts {
                print(
                    "  \(count.table.padding(toLength: 16, withPad: " ", startingAt: 0)) \(count.source) in SQLite, \(count.copied) in PostgreSQL  ok"
                )
            }
            print("Set SWITCHBOARD_DATABASE_URL on every host (with the same secret key file) and start the workers.")
        } catch {
            FileHandle.standardError.write(Data("switchboard: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
