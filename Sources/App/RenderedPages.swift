import Synchronization

/// Rendered page bytes, kept per data version and query, so a page over unchanged data is
/// rendered once. Keys carry the versions of the data they were rendered from; when the data
/// moves on, old keys are simply never asked for again and the whole cache is dropped once it
/// grows past `limit`.
final class RenderedPages: Sendable {
    private let pages = Mutex<[String: [UInt8]]>([:])
    private let limit: Int

    init(limit: Int = 256) { self.limit = limit }

    func bytes(for key: String, render: () throws -> [UInt8]) rethrows -> [UInt8] {
        if let cached = pages.withLock({ $0[key] }) { return cached }
        let bytes = try render()
        pages.withLock { pages in
            if pages.count >= limit { pages.removeAll(keepingCapacity: true) }
            pages[key] = bytes
        }
        return bytes
    }
}
