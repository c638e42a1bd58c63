import Model

/// `GET /api/audit`: a page of entries, newest first, and the next page's URL (or null).
struct AuditList: Encodable {
    let entries: [AuditJSON]
    let next: String?

    enum CodingKeys: String, CodingKey { case entries, next }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(entries, forKey: .entries)
        try c.encode(next as String?, forKey: .next)
    }
}

/// One entry for scripts: `{"at", "actor", "action", "object", "detail", "outcome"}`, where
/// `at` is RFC 3339, `action` its code (`capture.created`), `detail` a string or null, and
/// `outcome` the string `"done"` or `{"error": "…"}`.
struct AuditJSON: Encodable {
    let at: String
    let actor: String
    let action: String
    let object: String
    let detail: String?
    let error: String?

    init(_ entry: AuditEntry) {
        at = Format.rfc3339(entry.at) ?? ""
        actor = entry.actor
        action = entry.action.rawValue
        object = entry.object
        detail = entry.detail
        error = entry.error
    }

    enum CodingKeys: String, CodingKey { case at, actor, action, object, detail, outcome }
    enum ErrorKeys: String, CodingKey { case error }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(at, forKey: .at)
        try c.encode(actor, forKey: .actor)
        try c.encode(action, forKey: .action)
        try c.encode(object, forKey: .object)
        try c.encode(detail as String?, forKey: .detail)
        if let error {
            var outcome = c.nestedContainer(keyedBy: ErrorKeys.self, forKey: .outcome)
            try outcome.encode(error, forKey: .error)
        } else {
            try c.encode("done", forKey: .outcome)
        }
    }
}
