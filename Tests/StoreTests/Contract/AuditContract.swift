import Foundation
import Model
import Store
import Testing

extension StoreContract {
    /// `AuditStore`, and the entries the store's own changes write in their transactions.
    @Suite("Audit") struct Audit {
        @Test(
            "entries are read back newest first, filtered by object, actor and action, a page at a time", arguments: Backend.all)
        func readBackFiltered(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                let first = try one.appendAudit(
                    NewAuditEntry(actor: "ann", action: .connectorSynced, object: "connector:abc"), at: t0)
                #expect(first.actor == "ann" && first.at == t0 && first.succeeded)
                try one.appendAudit(
                    NewAuditEntry(
                        actor: "bob", action: .connectorChanged, object: "connector:abc", detail: "paused: true",
                        error: "Fivetran answered 409"),
                    at: t0 + 1)
                try one.appendAudit(NewAuditEntry(actor: "ann", action: .connectorDeleted, object: "connector:xyz"), at: t0 + 2)
                try one.appendAudit(NewAuditEntry(actor: nil, action: .connectorSynced, object: "connector:xyz"), at: t0 + 3)

                let all = try two.auditEntries(AuditFilter())
                #expect(all.map(\.at) == [t0 + 3, t0 + 2, t0 + 1, t0])
                #expect(all.first?.actor == "anonymous")
                #expect(all[2].detail == "paused: true" && all[2].error == "Fivetran answered 409" && !all[2].succeeded)
                #expect(try two.auditEntries(AuditFilter(object: "connector:abc")).map(\.at) == [t0 + 1, t0])
                #expect(try two.auditEntries(AuditFilter(actor: "ann")).map(\.at) == [t0 + 2, t0])
                #expect(try two.auditEntries(AuditFilter(action: .connectorSynced)).map(\.at) == [t0 + 3, t0])
                #expect(
                    try two.auditEntries(AuditFilter(object: "connector:xyz", actor: "ann", action: .connectorDeleted))
                        .map(\.at) == [t0 + 2])
                #expect(try two.auditEntries(AuditFilter(actor: "nobody")).isEmpty)
                #expect(try two.auditEntries(AuditFilter(limit: 2)).map(\.at) == [t0 + 3, t0 + 2])
                #expect(try two.auditEntries(AuditFilter(limit: 2, offset: 2)).map(\.at) == [t0 + 1, t0])
                #expect(try two.auditEntries(AuditFilter(limit: 2, offset: 4)).isEmpty)
            }
        }

        @Test("retention removes only the entries older than the cutoff, and says how many", arguments: Backend.all)
        func retention(_ backend: Backend) async throws {
            try await backend.withStore { store in
                for offset in 0..<5 {
                    try store.appendAudit(
                        NewAuditEntry(actor: "ann", action: .connectorSynced, object: "connector:abc"),
                        at: t0 + Double(offset) * 86_400)
                }
                #expect(try store.removeAudit(olderThan: t0 + 2 * 86_400) == 2)
                #expect(try store.auditEntries(AuditFilter()).map(\.at) == [t0 + 4 * 86_400, t0 + 3 * 86_400, t0 + 2 * 86_400])
                #expect(try store.removeAudit(olderThan: t0) == 0)
            }
        }

        @Test("a capture's creation, change and deletion each write one entry naming who and what", arguments: Backend.all)
        func captureChanges(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                let acme = try one.insertCapture(newCapture("Acme", resources: ["tags", "channels"]), by: "ann", at: t0)
                let changed = try #require(
                    try one.updateCapture(
                        id: acme.id,
                        CaptureChange(
                            name: "Beta", sealedToken: (Data([7]), "9999"), resources: ["tags"],
                            schedule: CaptureSchedule(everyMinutes: 15)),
                        by: "bob", at: t0 + 1))
                #expect(changed.name == "Beta")
                #expect(try one.deleteCapture(id: acme.id, collections: .delete, by: "cy", at: t0 + 2))

                let entries = try two.auditEntries(AuditFilter(object: "capture:\(acme.id)"))
                #expect(entries.map(\.action) == [.captureDeleted, .captureChanged, .captureCreated])
                #expect(entries.map(\.actor) == ["cy", "bob", "ann"])
                #expect(entries.map(\.at) == [t0 + 2, t0 + 1, t0])
                #expect(entries[2].detail == "Acme (channels, tags; manual)")
                #expect(
                    entries[1].detail
                        == "name (Acme → Beta), Front token (replaced), resources (tags; removed channels, collections kept), "
                        + "schedule (every 15 minutes)")
                #expect(entries[0].detail == "Beta (collections and checkpoints deleted)")
                #expect(entries.allSatisfy { $0.succeeded })
                // Never the token's last characters.
                #expect(!entries.contains { ($0.detail ?? "").contains("9999") || ($0.detail ?? "").contains("wxyz") })
            }
        }

        @Test(
            "a refused change writes neither the change nor an entry; a change to the same values writes no entry",
            arguments: Backend.all)
        func refusedChangesWriteNothing(_ backend: Backend) async throws {
            try await backend.withStore { store in
                let acme = try store.insertCapture(newCapture("Acme", resources: ["tags", "teams"]), by: "ann", at: t0)
                _ = try store.insertCapture(newCapture("Other"), by: "ann", at: t0)
                let before = try store.auditEntries(AuditFilter())
                #expect(before.count == 2)

                let taken = #expect(throws: StoreError.self) {
                    try store.insertCapture(newCapture("Acme"), by: "bob", at: t0 + 1)
                }
                #expect(taken?.isNameTaken == true)
                let renamed = #expect(throws: StoreError.self) {
                    try store.updateCapture(id: acme.id, CaptureChange(name: "Other"), by: "bob", at: t0 + 1)
                }
                #expect(renamed?.isNameTaken == true)
                #expect(try store.capture(id: acme.id)?.name == "Acme")

                guard case .queued(let job) = try store.enqueueJob(captureID: acme.id, requestedBy: "ann", bindings: [], at: t0)
                else {
                    Issue.record("not queued")
                    return
                }
                _ = try store.claimJob(token: "t1", leaseFor: .seconds(30), at: t0)
                let running = #expect(throws: StoreError.self) {
                    try store.updateCapture(
                        id: acme.id, CaptureChange(resources: ["teams"], removedCollections: .delete), by: "bob", at: t0 + 2)
                }
                #expect(running?.runningJob == job.id)
                #expect(try store.capture(id: acme.id)?.resources == ["tags", "teams"])
                // The same values again: nothing changed, nothing to record.
                _ = try store.updateCapture(
                    id: acme.id, CaptureChange(name: "Acme", resources: ["teams", "tags"]), by: "bob", at: t0 + 3)
                // A second start while one runs is "already active": no entry.
                #expect(try store.enqueueJob(captureID: acme.id, requestedBy: "bob", bindings: [], at: t0 + 4) != .queued(job))
                #expect(try store.revokeAPIToken(id: 999, by: "bob", at: t0 + 5) == false)

                let after = try store.auditEntries(AuditFilter())
                #expect(after.count == before.count + 1)
                #expect(after.first?.action == .jobStarted && after.first?.actor == "ann")
                #expect(!after.contains { $0.actor == "bob" })
            }
        }

        @Test(
            "jobs started by a person, by the schedule and cancelled each write one entry; a cancel of an ended job none",
            arguments: Backend.all)
        func jobChanges(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                let acme = try one.insertCapture(newCapture("Acme"), by: "ann", at: t0)
                let timed = try one.insertCapture(newCapture("Timed", schedule: .standard), by: "ann", at: t0)
                guard case .queued(let job) = try one.enqueueJob(captureID: acme.id, requestedBy: "bob", bindings: [], at: t0)
                else {
                    Issue.record("not queued")
                    return
                }
                #expect(try two.requestCancel(jobID: job.id, by: "cy", at: t0 + 1)?.1 == .cancelled)
                #expect(try two.requestCancel(jobID: job.id, by: "dee", at: t0 + 2)?.1 == .alreadyFinished(.cancelled))
                let scheduled = try #require(try one.enqueueDueRuns(at: t0 + 3, limit: 10).first)
                #expect(scheduled.captureID == timed.id)
                _ = try one.claimJob(token: "t1", leaseFor: .seconds(30), at: t0 + 3)
                #expect(try two.requestCancel(jobID: scheduled.id, by: "cy", at: t0 + 4)?.1 == .requested)

                let started = try two.auditEntries(AuditFilter(action: .jobStarted))
                #expect(started.map(\.object) == ["job:\(scheduled.id)", "job:\(job.id)"])
                #expect(started.map(\.actor) == ["schedule", "bob"])
                #expect(started[0].detail == "capture \(timed.id) (Timed), scheduled (every 5 minutes)")
                #expect(started[1].detail == "capture \(acme.id) (Acme)")
                let cancelled = try two.auditEntries(AuditFilter(action: .jobCancelled))
                #expect(cancelled.map(\.object) == ["job:\(scheduled.id)", "job:\(job.id)"])
                #expect(cancelled.map(\.actor) == ["cy", "cy"])
                #expect(cancelled[0].detail == "capture \(timed.id) (Timed): asked the running job to stop")
                #expect(cancelled[1].detail == "capture \(acme.id) (Acme): cancelled before it ran")
            }
        }

        @Test(
            "an API token's creation and revocation each write one entry with its name, never its hash or hint",
            arguments: Backend.all)
        func tokenChanges(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                let made = try one.insertAPIToken(name: "ci", sha256: "aa11", hint: "wxyz", by: "ann", at: t0)
                #expect(try one.revokeAPIToken(id: made.id, by: "bob", at: t0 + 1))
                #expect(try one.revokeAPIToken(id: made.id, by: "cy", at: t0 + 2) == false)
                let entries = try two.auditEntries(AuditFilter(object: "token:\(made.id)"))
                #expect(entries.map(\.action) == [.tokenRevoked, .tokenCreated])
                #expect(entries.map(\.actor) == ["bob", "ann"])
                #expect(entries.map(\.detail) == ["ci", "ci"])
            }
        }

        @Test("a capture's deletion keeps its earlier entries", arguments: Backend.all)
        func deletionKeepsHistory(_ backend: Backend) async throws {
            try await backend.withStore { store in
                let acme = try store.insertCapture(newCapture("Acme"), by: "ann", at: t0)
                _ = try store.enqueueJob(captureID: acme.id, requestedBy: "ann", bindings: [], at: t0)
                #expect(try store.deleteCapture(id: acme.id, collections: .keep, by: "ann", at: t0 + 1))
                #expect(try store.auditEntries(AuditFilter()).map(\.action) == [.captureDeleted, .jobStarted, .captureCreated])
            }
        }
    }
}
