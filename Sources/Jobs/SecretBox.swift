import Crypto
import Foundation

/// Seals secrets kept in the database (captures' Front tokens) with AES-GCM, under a subkey
/// derived with HKDF from the server's secret key file, apart from the CSRF subkey. A sealed
/// value is nonce + ciphertext + tag; opening checks the tag, so a value sealed under another
/// key (a replaced key file) is refused rather than misread.
public struct SecretBox: Sendable {
    /// The derived key's bytes (`SymmetricKey` is not `Sendable`).
    private let keyBytes: [UInt8]

    public init(secret: some ContiguousBytes) {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: secret), info: Data("switchboard stored tokens v1".utf8),
            outputByteCount: 32)
        keyBytes = key.withUnsafeBytes { Array($0) }
    }

    public func seal(_ secret: String) throws(SecretBoxError) -> Data {
        do {
            guard let combined = try AES.GCM.seal(Data(secret.utf8), using: SymmetricKey(data: keyBytes)).combined else {
                throw SecretBoxError.cannotSeal
            }
            return combined
        } catch {
            throw .cannotSeal
        }
    }

    public func open(_ sealed: Data) throws(SecretBoxError) -> String {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            let plain = try AES.GCM.open(box, using: SymmetricKey(data: keyBytes))
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw .cannotOpen
        }
    }
}

public enum SecretBoxError: Error, Sendable, CustomStringConvertible {
    case cannotSeal
    case cannotOpen

    public var description: String {
        switch self {
        case .cannotSeal: "cannot encrypt the token"
        case .cannotOpen:
            "the stored Front token cannot be decrypted with this server's key (was SWITCHBOARD_SECRET_KEY_FILE replaced?); create the capture again with its token"
        }
    }
}
