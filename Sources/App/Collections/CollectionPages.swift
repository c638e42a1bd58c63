import Foundation
import Model
import Store
import Web

/// `/collections`: every collection a capture has written, with its counts and download.
struct CollectionListPage: Sendable {
    struct Row: Sendable {
        let name: String
        let href: String
        /// The NDJSON download.
        let download: String
        let documents: Int
        let deleted: Int
        let updated: Stamp
    }

    let collections: [Row]
    let hasCollections: Bool

    init(summaries: [CollectionSummary], now: Date) {
        collections = summaries.map { summary in
            Row(
                name: summary.name, href: Format.collectionPath(summary.name),
                download: Format.collectionPath(summary.name) + ".ndjson", documents: summary.documents,
                deleted: summary.deleted, updated: Stamp(summary.lastUpdate, now: now))
        }
        hasCollections = !summaries.isEmpty
    }
}

/// `/collections/{name}`: one page of a collection's documents, newest first, as indented JSON.
struct CollectionPage: Sendable {
    struct Document: Sendable {
        let key: String
        let deleted: Bool
        /// Indented, keys sorted (escaped by the template).
        let json: String
        let updated: Stamp
    }

    let name: String
    let documentsCount: Int
    let deletedCount: Int
    let href: String
    let download: String
    /// RFC 3339.
    let updated: String
    let documents: [Document]
    /// Not the first page: link back to the newest.
    let paged: Bool
    /// The next (older) page, while there is one.
    let next: String?

    /// `documents`: up to `pageSize + 1` of them from after `after` (the one past the page says
    /// there is a next one).
    init(summary: CollectionSummary, documents: [StoredDocument], after: StoredDocument?, pageSize: Int, now: Date) {
        let shown = documents.prefix(pageSize)
        name = summary.name
        documentsCount = summary.documents
        deletedCount = summary.deleted
        let href = Format.collectionPath(summary.name)
        self.href = href
        download = href + ".ndjson"
        updated = Format.rfc3339(summary.lastUpdate) ?? ""
        self.documents = shown.map { document in
            Document(
                key: document.key, deleted: document.deleted, json: Self.pretty(document.json),
                updated: Stamp(document.updatedAt, now: now))
        }
        paged = after != nil
        next = documents.count > pageSize ? shown.last.map { href + "?after=" + percentEncode($0.key) } : nil
    }

    /// The document as indented JSON with sorted keys; as stored when it does not parse.
    static func pretty(_ json: Data) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        else { return String(decoding: json, as: UTF8.self) }
        return String(decoding: data, as: UTF8.self)
    }
}
