import Testing

@testable import FastCGI

@Suite("Restart policy, peers, loopback and systemd sockets")
struct SupervisionTests {
    @Test("a worker that ran a while restarts at once; quick deaths wait longer each time, up to the cap")
    func restartPolicy() {
        var policy = RestartPolicy(healthyAfter: .seconds(5), firstDelay: .milliseconds(250), maxDelay: .seconds(2))
        #expect(policy.workerDied(after: .seconds(60)) == .zero)
        #expect(policy.workerDied(after: .seconds(1)) == .milliseconds(250))
        #expect(policy.workerDied(after: .seconds(1)) == .milliseconds(500))
        #expect(policy.workerDied(after: .zero) == .seconds(1))
        #expect(policy.workerDied(after: .zero) == .seconds(2))
        #expect(policy.workerDied(after: .zero) == .seconds(2))
        for _ in 0..<100 { _ = policy.workerDied(after: .zero) }
        #expect(policy.workerDied(after: .zero) == .seconds(2))
        #expect(policy.workerDied(after: .seconds(5)) == .zero)
        #expect(policy.quickDeaths == 0)
        #expect(policy.workerDied(after: .seconds(1)) == .milliseconds(250))
    }

    @Test("--allow-from takes IPv4 addresses only, comma-separated")
    func allowList() {
        #expect(PeerAllowList.parse("127.0.0.1") == .success(["127.0.0.1"]))
        #expect(PeerAllowList.parse("10.0.0.5, 127.0.0.1") == .success(["10.0.0.5", "127.0.0.1"]))
        #expect(PeerAllowList.parse("") == .failure(.empty))
        #expect(PeerAllowList.parse("127.0.0.1,") == .failure(.empty))
        #expect(PeerAllowList.parse("::1") == .failure(.notIPv4("::1")))
        #expect(PeerAllowList.parse("nginx.local") == .failure(.notIPv4("nginx.local")))
        #expect(PeerAllowList.defaults(for: .tcp(host: "127.0.0.1", port: 9000)) == ["127.0.0.1"])
        #expect(PeerAllowList.defaults(for: .tcp(host: "10.1.2.3", port: 9000)) == nil)
        #expect(PeerAllowList.defaults(for: .inherited) == nil)
    }

    @Test("loopback means 127.0.0.0/8, ::1 or localhost; an empty host is every interface")
    func loopback() {
        #expect(ListenAddress.tcp(host: "127.0.0.1", port: 1).isLoopback)
        #expect(ListenAddress.tcp(host: "127.1.2.3", port: 1).isLoopback)
        #expect(ListenAddress.tcp(host: "localhost", port: 1).isLoopback)
        #expect(ListenAddress.tcp(host: "::1", port: 1).isLoopback)
        #expect(!ListenAddress.tcp(host: "", port: 1).isLoopback)
        #expect(!ListenAddress.tcp(host: "0.0.0.0", port: 1).isLoopback)
        #expect(!ListenAddress.tcp(host: "10.1.2.3", port: 1).isLoopback)
        #expect(!ListenAddress.tcp(host: "128.0.0.1", port: 1).isLoopback)
    }

    @Test("LISTEN_FDS counts only when LISTEN_PID names this process")
    func systemd() {
        guard case .activated(3)? = ListenAddress.systemd(environment: ["LISTEN_PID": "42", "LISTEN_FDS": "1"], pid: 42) else {
            Issue.record("fd 3 expected")
            return
        }
        #expect(ListenAddress.systemd(environment: ["LISTEN_PID": "41", "LISTEN_FDS": "1"], pid: 42) == nil)
        #expect(ListenAddress.systemd(environment: ["LISTEN_PID": "42", "LISTEN_FDS": "0"], pid: 42) == nil)
        #expect(ListenAddress.systemd(environment: ["LISTEN_PID": "x", "LISTEN_FDS": "1"], pid: 42) == nil)
        #expect(ListenAddress.systemd(environment: [:], pid: 42) == nil)
    }
}
