import Foundation

/// Cookie header parsing and `Set-Cookie` values.
public enum Cookies {
    /// `a=1; b=2` → `["a": "1", "b": "2"]`; the first of a repeated name wins.
    public static func parse(_ header: String) -> [String: String] {
        var cookies: [String: String] = [:]
        for piece in header.split(separator: ";") {
            let trimmed = piece.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
            let text = String(trimmed)
            guard let eq = text.firstIndex(of: "=") else { continue }
            let name = String(text[..<eq])
            var value = String(text[text.index(after: eq)...])
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            if cookies[name] == nil { cookies[name] = value }
        }
        return cookies
    }

    /// A `Set-Cookie` value, `HttpOnly` and `SameSite=Lax` unless told otherwise.
    public static func setCookie(
        name: String, value: String, path: String = "/", maxAge: Int? = nil, httpOnly: Bool = true, secure: Bool = false
    ) -> String {
        var parts = ["\(name)=\(value)", "Path=\(path)", "SameSite=Lax"]
        if let maxAge { parts.append("Max-Age=\(maxAge)") }
        if httpOnly { parts.append("HttpOnly") }
        if secure { parts.append("Secure") }
        return parts.joined(separator: "; ")
    }
}
