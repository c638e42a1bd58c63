import Foundation
import Model
import Store
import Web

/// `/audit`, the page of who did what, and `GET /api/audit`, the same for scripts (behind the
/// bearer token, with an ETag). Both read only; entries are written by the changes themselves.
struct AuditRoutes {
    let site: Site
    let access: StoreAccess
    let authentication: BearerAuthentication

    func register(in router: inout Router) {
        router.get("/audit") { request in try await show(request) }
        router.get("/api/audit") { request in try await list(request) }
    }

    func show(_ request: Request) async throws -> Response {
        let query = try AuditQuery(request.query)
        let entries = try access.read { [query] in try $0.auditEntries(query.filter) }
        let page = AuditPage(query: query, entries: entries, now: Date())
        return try site.page("audit", title: "Audit", section: .audit, model: page, request: request)
    }

    func list(_ request: Request) async throws -> Response {
        _ = try authentication.caller(request)
        let query = try AuditQuery(request.query)
        let entries = try access.read { [query] in try $0.auditEntries(query.filter) }
        let next = entries.count > AuditQuery.perPage ? query.link("/api/audit", page: query.page + 1) : nil
        return .jsonWithETag(
            AuditList(entries: entries.prefix(AuditQuery.perPage).map(AuditJSON.init), next: next), request: request)
    }
}
