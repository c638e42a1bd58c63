import Testing

@testable import FastCGI

@Suite("Listen addresses")
struct ListenAddressTests {
    @Test("HOST:PORT, :PORT and [v6]:PORT parse; junk and bad ports do not")
    func parse() {
        guard case .tcp("127.0.0.1", 9000)? = ListenAddress.tcp("127.0.0.1:9000") else {
            Issue.record("v4")
            return
        }
        guard case .tcp("", 9001)? = ListenAddress.tcp(":9001") else {
            Issue.record("any")
            return
        }
        guard case .tcp("::1", 9002)? = ListenAddress.tcp("[::1]:9002") else {
            Issue.record("v6")
            return
        }
        #expect(ListenAddress.tcp("localhost") == nil)
        #expect(ListenAddress.tcp("h:0") == nil)
        #expect(ListenAddress.tcp("h:70000") == nil)
    }

    @Test("a descriptor that is not a listening socket is refused as fd 0 would be")
    func notListening() {
        #expect(!ListeningSocket.isListeningSocket(-1))
        #expect(!ListeningSocket.isListeningSocket(2))
    }
}
