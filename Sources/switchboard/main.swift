import App
import ArgumentParser

// Capture branch only: a root command so `capture` and `export` can be run by hand.
// The app's own main.swift registers CaptureCommand and ExportCommand beside its commands.
@available(macOS 10.15, *)
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard", subcommands: [CaptureCommand.self, ExportCommand.self])
}

// Parsed by hand: in top-level code the synchronous `main()` overload wins and refuses async commands.
func runSwitchboard() async {
    do {
        var command = try Switchboard.parseAsRoot()
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    } catch {
        Switchboard.exit(withError: error)
    }
}

await runSwitchboard()
