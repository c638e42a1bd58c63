import Foundation

/// One answer as both stand-ins' cores return it. An `Error` too, so a parser deep in a core can
/// fail with the answer to send (`Result<…, SandboxResponse>`).
struct SandboxResponse: Error, Sendable {
    var status: Int
    var headers: SandboxHeaders = [:]
    var body = Data()
    /// How long the server holds the answer back: injected latency, slept outside the core's lock.
    var delay: Duration = .zero

    /// The one JSON answer: every JSON body of both stand-ins goes out through here, with its
    /// type. A `content-type` in `headers` replaces the default, spelling included.
    static func json(_ status: Int, body: Data, headers: SandboxHeaders = [:]) -> Self {
        var all: SandboxHeaders = ["Content-Type": "application/json"]
        all.append(contentsOf: headers)
        return Self(status: status, headers: all, body: body)
    }

    /// JSON of an `Encodable`, keys sorted and `/` unescaped so that equal values give equal bytes
    /// (and URLs read as URLs).
    static func json(_ status: Int, encoding value: some Encodable, headers: SandboxHeaders = [:]) -> Self {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return json(status, body: (try? encoder.encode(value)) ?? Data("{}".utf8), headers: headers)
    }

    static func html(_ status: Int, _ text: String) -> Self {
        Self(status: status, headers: ["Content-Type": "text/html; charset=utf-8"], body: Data(text.utf8))
    }
}

/// Response headers in the order they were set, each name once: setting a name replaces it
/// whatever its case, which is what an injected header fault needs to override the real one.
/// Names keep the spelling they were set with, so each stand-in answers with its API's.
struct SandboxHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    private var fields: [(name: String, value: String)] = []

    init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { self[name] = value }
    }

    subscript(name: String) -> String? {
        get { fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value }
        set {
            fields.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
            if let newValue { fields.append((name, newValue)) }
        }
    }

    /// Sets each of `other`'s headers, replacing those of the same name.
    mutating func append(contentsOf other: some Sequence<(name: String, value: String)>) {
        for (name, value) in other { self[name] = value }
    }

    func makeIterator() -> some IteratorProtocol<(name: String, value: String)> { fields.makeIterator() }
}
