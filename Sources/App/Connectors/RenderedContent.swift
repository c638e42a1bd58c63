import Synchronization

/// Bytes rendered or encoded from upstream data (a page's content, the sample's JSON), kept
/// per data version so that a view of unchanged data costs no rendering. Nothing per visitor
/// goes in (pages keep their layout and tokens out of the content; see `Site.page(title:…)`),
/// so one visitor's bytes are safe to serve to the next.
///
/// When the data moves on, the first request for a key renders the new version while the
/// others keep getting the previous bytes, so a refresh causes one render, not a herd of them.
final class RenderedContent: Sendable {
    private struct Entry {
        var version: String
        var bytes: [UInt8]
        var rendering: Bool
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let limit: Int

    init(limit: Int = 256) { self.limit = limit }

    /// The bytes of `key` at `version`, rendering them with `render` when they are not kept yet.
    func bytes(for key: String, version: String, render: () throws -> [UInt8]) rethrows -> [UInt8] {
        enum Next {
            case serve([UInt8])
            case render
        }
        let next = entries.withLock { entries -> Next in
            guard var entry = entries[key] else { return .render }
            if entry.version == version { return .serve(entry.bytes) }
            if entry.rendering { return .serve(entry.bytes) }  // another request renders the new version
            entry.rendering = true
            entries[key] = entry
            return .render
        }
        if case .serve(let bytes) = next { return bytes }
        do {
            let bytes = try render()
            entries.withLock { entries in
                if entries.count >= limit, entries[key] == nil { entries.removeAll(keepingCapacity: true) }
                entries[key] = Entry(version: version, bytes: bytes, rendering: false)
            }
            return bytes
        } catch {
            entries.withLock { entries in entries[key]?.rendering = false }
            throw error
        }
    }
}
