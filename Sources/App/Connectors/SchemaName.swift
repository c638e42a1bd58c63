import Foundation

/// Destination schema names: lower-case letters, digits and underscores, starting with a
/// letter, at most 63 characters (what Fivetran accepts), suggested from a display name.
enum SchemaName {
    /// `Café Sales (EU)` → `cafe_sales_eu`.
    static func suggest(from displayName: String) -> String {
        let folded = displayName.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).lowercased()
        var out = ""
        for scalar in folded.unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else if !out.isEmpty && !out.hasSuffix("_") {
                out += "_"
            }
        }
        while out.hasSuffix("_") { out.removeLast() }
        if let first = out.unicodeScalars.first, ("0"..."9").contains(first) { out = "s_" + out }
        return String(out.prefix(63))
    }

    /// `name`, or `name_2`, `name_3`, … whichever is not taken yet.
    static func unique(_ name: String, taken: Set<String>) -> String {
        guard taken.contains(name) else { return name }
        var counter = 2
        while taken.contains("\(name)_\(counter)") { counter += 1 }
        return "\(name)_\(counter)"
    }

    /// What is wrong with a schema name, in words, or nil if it is fine.
    static func problem(_ name: String) -> String? {
        if name.isEmpty { return "Choose a schema name." }
        if name.count > 63 { return "Keep the schema name to 63 characters or fewer." }
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else {
            return "The schema name must start with a lower-case letter."
        }
        let allowed = name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        return allowed ? nil : "Use only lower-case letters, digits and underscores in the schema name."
    }
}
