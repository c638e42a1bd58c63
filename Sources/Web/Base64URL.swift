import ExtrasBase64

/// base64url without padding (RFC 4648 §5): the one text form of the random tokens the app
/// makes, CSRF tokens and API tokens, so they go in cookies, headers and URLs unescaped.
/// swift-extras-base64 does the work.
public enum Base64URL {
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Base64.encodeToString(bytes: bytes, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }

    /// The bytes, or nil for text that is not unpadded base64url.
    public static func decode(_ text: String) -> [UInt8]? {
        try? Base64.decode(string: text, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }
}
