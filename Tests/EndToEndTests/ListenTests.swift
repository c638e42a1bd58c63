import Foundation
import SwitchboardTesting
import Testing

/// The three ways the worker gets its socket, each driven over FastCGI with Debian's cgi-fcgi.
@Suite("Worker sockets")
struct ListenTests {
    /// Sends one GET over FastCGI to `address` (a socket path or HOST:PORT) and answers the output.
    func fastCGIGet(_ address: String, path: String) throws -> String {
        try runProgram(
            "/usr/bin/cgi-fcgi", ["-bind", "-connect", address], environment: ["REQUEST_METHOD": "GET", "SCRIPT_NAME": path]
        ).output
    }

    func worker(_ stack: Stack, _ arguments: [String], stdin: FileHandle = .nullDevice) throws -> Process {
        try launchProcess(
            Stack.binary, ["serve", "--threads", "2"] + arguments, environment: stack.environment, in: stack.folder,
            log: stack.workerLog, stdin: stdin)
    }

    @Test("--listen HOST:PORT serves FastCGI over TCP")
    func tcp() async throws {
        let stack = try Stack(sandbox: nil)
        defer { stack.stop() }
        let port = try freePort()
        let process = try worker(stack, ["--listen", "127.0.0.1:\(port)"])
        defer { terminateAndWait(process) }
        var reply = ""
        try await waitUntil("the worker answers on \(port)") {
            reply = (try? fastCGIGet("127.0.0.1:\(port)", path: "/healthz")) ?? ""
            return reply.contains("\"status\":\"ok\"")
        }
        #expect(reply.hasPrefix("Status: 200 OK"))
    }

    @Test("with neither --socket nor --listen it serves the socket handed over on fd 0, as spawn-fcgi does")
    func inherited() async throws {
        let stack = try Stack(sandbox: nil)
        defer { stack.stop() }
        let path = stack.folder.appendingPathComponent("fd0.sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(listen(fd, 16) == 0)
        let process = try worker(stack, [], stdin: FileHandle(fileDescriptor: fd, closeOnDealloc: true))
        defer { terminateAndWait(process) }
        var reply = ""
        try await waitUntil("the worker answers on the inherited socket") {
            reply = (try? fastCGIGet(path, path: "/healthz")) ?? ""
            return reply.contains("\"status\":\"ok\"")
        }
        #expect(reply.hasPrefix("Status: 200 OK"))
    }

    @Test("with no socket at all it refuses to start and says how to give one")
    func noSocket() throws {
        let stack = try Stack(sandbox: nil)
        defer { stack.stop() }
        let (status, errors) = try stack.runWorkerToEnd([])
        #expect(status != 0)
        #expect(errors.contains("no --socket or --listen given"))
    }
}
