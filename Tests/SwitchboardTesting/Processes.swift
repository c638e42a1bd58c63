import Foundation

/// The package's root folder (where `Package.swift`, `templates/` and `scripts/` are).
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The `switchboard` binary that tests run as an operator would: `$SWITCHBOARD_BIN`, else the
/// one built beside this test bundle, else the debug build in the package.
public var switchboardBinary: String {
    if let path = ProcessInfo.processInfo.environment["SWITCHBOARD_BIN"], !path.isEmpty { return path }
    var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while folder.path != "/" {
        let candidate = folder.appendingPathComponent("switchboard").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        folder.deleteLastPathComponent()
    }
    return packageRoot.appendingPathComponent(".build/debug/switchboard").path
}

/// Starts a program with its standard output and error in the file `log` (made anew, empty) and
/// `stdin` as its standard input. `environment` nil: this process's own.
public func launchProcess(
    _ path: String, _ arguments: [String], environment: [String: String]? = nil, in directory: URL? = nil,
    log: String, stdin: FileHandle = .nullDevice
) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = directory }
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = stdin
    try process.run()
    return process
}

/// SIGTERM, then waits until the pid is gone (SIGKILL after `deadline` seconds). Only the
/// process given is signalled, by its own pid. Polls the pid itself: Foundation's
/// `waitUntilExit` was seen to hang on Linux after the child had been reaped.
public func terminateAndWait(_ process: Process, deadline: TimeInterval = 20) {
    let pid = process.processIdentifier
    guard pid > 0, process.isRunning else { return }
    kill(pid, SIGTERM)
    let end = Date().addingTimeInterval(deadline)
    while process.isRunning && kill(pid, 0) == 0 {
        if Date() > end {
            kill(pid, SIGKILL)
            break
        }
        Thread.sleep(forTimeInterval: 0.02)
    }
}
