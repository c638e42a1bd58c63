import Foundation
import Jobs
import Testing

@Suite("Stored tokens are sealed")
struct SecretBoxTests {
    @Test("a sealed token opens with the same key, not with another, and never shows in the bytes")
    func roundTrip() throws {
        let box = SecretBox(secret: [UInt8](repeating: 7, count: 32))
        let sealed = try box.seal("front-secret-token-1234")
        #expect(!String(decoding: sealed, as: UTF8.self).contains("front-secret"))
        #expect(try box.open(sealed) == "front-secret-token-1234")
        #expect(try box.seal("x") != box.seal("x"))  // fresh nonce each time
        let other = SecretBox(secret: [UInt8](repeating: 8, count: 32))
        #expect(throws: SecretBoxError.self) { try other.open(sealed) }
    }
}
