import Foundation
import Testing

@testable import Web

@Suite("base64url: the text form of CSRF and API tokens")
struct Base64URLTests {
    /// What the app wrote before swift-extras-base64 did it: Foundation's base64 with `+/` swapped
    /// for `-_` and the padding dropped. New tokens must be the same bytes, old ones must verify.
    static func foundationReference(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test("RFC 4648's vectors in the URL alphabet, unpadded")
    func vectors() {
        let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (text, encoded) in vectors {
            #expect(Base64URL.encode(Array(text.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(text.utf8))
        }
        #expect(Base64URL.encode([0xfb, 0xef, 0xbe]) == "----")
        #expect(Base64URL.encode([0xff, 0xff, 0xff]) == "____")
    }

    @Test("the same text as the hand-written encoder for every length a token has, and back")
    func sameAsBefore() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...64 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
                let text = Base64URL.encode(bytes)
                #expect(text == Self.foundationReference(bytes))
                #expect(Base64URL.decode(text) == bytes)
            }
        }
    }

    @Test(
        "text outside the URL alphabet (standard base64's + and / included) or of an impossible length decodes to nothing",
        arguments: ["Z", "Zm9vY", "Zm9v+/", "Zm 9", "Zm9\n", "Zm9vYmF!"])
    func refused(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test("a CSRF token made before the change still verifies")
    func oldToken() {
        // 16 nonce bytes 0xf0…0xff and their HMAC under this key, encoded by the old code.
        let csrf = CSRF(secret: [UInt8](repeating: 7, count: 32))
        #expect(csrf.isValid("8PHy8_T19vf4-fr7_P3-_3sELFzo8RgF3gxwbGl4HHuq8bulugSxSYMGL5ihF8wV"))
        #expect(!csrf.isValid("8PHy8_T19vf4-fr7_P3-_3sELFzo8RgF3gxwbGl4HHuq8bulugSxSYMGL5ihF8wW"))
        let fresh = csrf.issue()
        #expect(fresh.count == 64 && csrf.isValid(fresh))
    }
}
