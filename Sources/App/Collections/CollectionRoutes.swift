import Foundation
import Logging
import Model
import Store
import Web

/// The captured collections: the list, one collection's documents (newest first), and its
/// NDJSON download, streamed from a database cursor.
///
/// Collection names contain `/` (`acme/channels`). Links percent-encode it
/// (`/collections/acme%2Fchannels`), but nginx decodes `%2F` in `SCRIPT_NAME`, so the worker
/// sees `/collections/acme/channels`: every route here therefore takes the name as the rest of
/// the path, one to `maxDepth` segments, and joins them back with `/`. A still-encoded `%2F`
/// (a client talking FastCGI directly) is decoded too.
struct CollectionRoutes {
    let site: Site
    let access: StoreAccess
    /// NDJSON downloads streaming at once: each takes a thread and CPU while nginx buffers it.
    let exports: ThreadBudget
    static let maxDepth = 6
    static let pageSize = 25

    func register(in router: inout Router) {
        router.get("/collections") { request in try await list(request) }
        for depth in 1...Self.maxDepth {
            let segments = (1...depth).map { "{p\($0)}" }
            let pattern = "/collections/" + segments.joined(separator: "/")
            // The download first: `{p2}` alone would also match `channels.ndjson`.
            router.get(pattern + ".ndjson") { request in try await download(name: try Self.name(request, depth: depth)) }
            router.get(pattern) { request in try await show(request, name: try Self.name(request, depth: depth)) }
        }
    }

    static func name(_ request: Request, depth: Int) throws(HTTPError) -> String {
        let joined = (1...depth).compactMap { request[parameter: "p\($0)"] }.joined(separator: "/")
        guard let decoded = percentDecode(joined) else { throw .badRequest("The collection name is not valid percent-encoding.") }
        return decoded
    }

    private func summaries() throws(HTTPError) -> [CollectionSummary] {
        try access.read { try $0.collections() }
    }

    func list(_ request: Request) async throws -> Response {
        let page = CollectionListPage(summaries: try summaries(), now: Date())
        return try site.page("collections", title: "Collections", section: .collections, model: page, request: request)
    }

    func show(_ request: Request, name: String) async throws -> Response {
        guard let summary = try summaries().first(where: { $0.name == name }) else {
            throw HTTPError.notFound("There is no collection \(name). Collections appear once a capture has written to them.")
        }
        var after: StoredDocument?
        if let key = request.query["after"] {
            after = try access.read { try $0.document(in: name, key: key) }
        }
        let documents = try access.read { [after] in try $0.documents(in: name, limit: Self.pageSize + 1, after: after) }
        let page = CollectionPage(summary: summary, documents: documents, after: after, pageSize: Self.pageSize, now: Date())
        return try site.page("collections-show", title: name, section: .collections, model: page, request: request)
    }

    func download(name: String) async throws -> Response {
        let store = access.store
        let logger = site.logger
        let pace = ExportPace(bytesPerSecond: site.configuration.exportBytesPerSecond)
        // The slot first: a refusal costs no query. It is left when the stream ends, below.
        try exports.enter()
        do {
            guard try summaries().contains(where: { $0.name == name }) else {
                throw HTTPError.notFound("There is no collection \(name).")
            }
        } catch {
            exports.leave()
            throw error
        }
        let filename = name.replacingOccurrences(of: "/", with: "-") + ".ndjson"
        return Response(
            status: 200,
            headers: [
                ("Content-Type", "application/x-ndjson"),
                ("Content-Disposition", "attachment; filename=\"\(filename)\""),
                ("Cache-Control", "no-cache"),
            ],
            body: .stream { write in
                defer { exports.leave() }
                var buffer: [UInt8] = []
                buffer.reserveCapacity(1 << 16)
                do {
                    try store.forEachDocument(in: name) { document in
                        buffer.append(contentsOf: document.json)
                        buffer.append(0x0A)
                        if buffer.count >= 1 << 16 {
                            guard write(buffer) else { throw ClientGone() }
                            pace.wrote(buffer.count)
                            buffer.removeAll(keepingCapacity: true)
                        }
                    }
                    if !buffer.isEmpty { _ = write(buffer) }
                } catch {
                    if !"\(error)".contains("ClientGone") { logger.error("export of \(name) stopped: \(error)") }
                }
            })
    }
}

private struct ClientGone: Error {}

/// Holds one download to a rate: nginx buffers downloads, so without it each would be written as
/// fast as the CPU allows, and twenty at once would slow every page. Sleeping here is on the
/// download's own FastCGI thread, which is what the download costs anyway.
final class ExportPace: @unchecked Sendable {
    private let bytesPerSecond: Double
    private let start = ContinuousClock.now
    private var sent = 0

    init(bytesPerSecond: Int) { self.bytesPerSecond = Double(max(1, bytesPerSecond)) }

    func wrote(_ count: Int) {
        sent += count
        let due = Double(sent) / bytesPerSecond
        let elapsed = ContinuousClock.now - start
        let ahead = due - (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        if ahead > 0.001 { Thread.sleep(forTimeInterval: min(ahead, 5)) }
    }
}
