import Foundation
import Model
import Store
import Testing

extension StoreContract {
    /// `CaptureStore`.
    @Suite("Captures") struct Captures {
        @Test("a saved capture is read back whole, by id and in the list by name, its resources sorted", arguments: Backend.all)
        func savedAndReadBack(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                let saved = try one.insertCapture(
                    NewCapture(
                        name: "Acme", prefix: "acme", sealedToken: Data([9, 8, 7]), tokenHint: "wxyz", startDate: t0,
                        resources: ["tags", "channels", "events"], createdBy: "ann"),
                    at: t0 + 60)
                #expect(saved.name == "Acme" && saved.prefix == "acme" && saved.sealedToken == Data([9, 8, 7]))
                #expect(saved.tokenHint == "wxyz" && saved.startDate == t0 && saved.createdBy == "ann")
                #expect(saved.resources == ["channels", "events", "tags"])
                #expect(saved.createdAt == t0 + 60)
                #expect(saved.collection(for: "tags") == "acme/tags")
                #expect(try two.capture(id: saved.id) == saved)
                #expect(try two.capture(id: saved.id + 1) == nil)
                let other = try one.insertCapture(newCapture("beta", prefix: "beta"))
                #expect(other.startDate == nil && other.createdBy == nil && other.id != saved.id)
                let zulu = try one.insertCapture(newCapture("Zulu"))
                #expect(try two.captures().map(\.name) == ["Acme", "beta", "Zulu"])
                #expect(try two.captures().map(\.id) == [saved.id, other.id, zulu.id])
            }
        }

        @Test("a taken name or collection prefix is refused as such, and nothing is saved", arguments: Backend.all)
        func nameOrPrefixTaken(_ backend: Backend) async throws {
            try await backend.withStore { store in
                _ = try store.insertCapture(newCapture("Acme", prefix: "acme"))
                for clash in [newCapture("Acme", prefix: "other"), newCapture("Other", prefix: "acme")] {
                    let error = #expect(throws: StoreError.self) { try store.insertCapture(clash) }
                    #expect(error?.isNameTaken == true)
                }
                #expect(try store.captures().map(\.name) == ["Acme"])
            }
        }
    }

    /// `APITokenStore`.
    @Suite("API tokens") struct APITokens {
        @Test("a token is found by its hash until revoked; an unknown hash finds nothing", arguments: Backend.all)
        func foundUntilRevoked(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                let made = try one.insertAPIToken(name: "ci", sha256: "aa11", hint: "wxyz", at: t0)
                #expect(made.name == "ci" && made.hint == "wxyz" && made.createdAt == t0)
                #expect(made.lastUsedAt == nil && made.revokedAt == nil)
                #expect(try two.useAPIToken(sha256: "aa11", at: t0 + 1)?.id == made.id)
                #expect(try two.useAPIToken(sha256: "bb22", at: t0 + 1) == nil)
                #expect(try two.liveAPITokenCount() == 1)
                #expect(try one.revokeAPIToken(id: made.id, at: t0 + 2))
                #expect(try one.revokeAPIToken(id: made.id, at: t0 + 3) == false)
                #expect(try one.revokeAPIToken(id: made.id + 100, at: t0 + 3) == false)
                #expect(try two.useAPIToken(sha256: "aa11", at: t0 + 4) == nil)
                #expect(try two.liveAPITokenCount() == 0)
                #expect(try two.apiTokens().first?.revokedAt == t0 + 2)
            }
        }

        @Test("use is recorded at most once a minute", arguments: Backend.all)
        func useRecordedOnceAMinute(_ backend: Backend) async throws {
            try await backend.withStore { store in
                _ = try store.insertAPIToken(name: "ci", sha256: "aa11", hint: "wxyz", at: t0)
                _ = try store.useAPIToken(sha256: "aa11", at: t0 + 10)
                #expect(try store.apiTokens().first?.lastUsedAt == t0 + 10)
                let seen = try store.useAPIToken(sha256: "aa11", at: t0 + 40)
                #expect(seen?.lastUsedAt == t0 + 10)
                #expect(try store.apiTokens().first?.lastUsedAt == t0 + 10)
                _ = try store.useAPIToken(sha256: "aa11", at: t0 + 71)
                #expect(try store.apiTokens().first?.lastUsedAt == t0 + 71)
            }
        }

        @Test("tokens are listed newest first, revoked ones included", arguments: Backend.all)
        func listedNewestFirst(_ backend: Backend) async throws {
            try await backend.withStore { store in
                let first = try store.insertAPIToken(name: "one", sha256: "01", hint: "0001", at: t0)
                let second = try store.insertAPIToken(name: "two", sha256: "02", hint: "0002", at: t0 + 1)
                try store.revokeAPIToken(id: first.id, at: t0 + 2)
                #expect(try store.apiTokens().map(\.name) == ["two", "one"])
                #expect(try store.apiTokens().map(\.id) == [second.id, first.id])
                #expect(try store.liveAPITokenCount() == 1)
            }
        }
    }

    /// `ConnectorNameStore`.
    @Suite("Connector names") struct ConnectorNames {
        @Test("a display name is kept, replaced, and listed by connector id", arguments: Backend.all)
        func keptAndReplaced(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                #expect(try two.connectorNames().isEmpty)
                try one.setConnectorName("Sales", for: "conn_1", by: "ann", at: t0)
                try one.setConnectorName("Support", for: "conn_2", by: nil, at: t0)
                try one.setConnectorName("Sales EU", for: "conn_1", by: "bob", at: t0 + 1)
                #expect(try two.connectorNames() == ["conn_1": "Sales EU", "conn_2": "Support"])
                // A deleted connector's name goes; asking again changes nothing.
                #expect(try two.removeConnectorName(for: "conn_1"))
                #expect(try one.removeConnectorName(for: "conn_1") == false)
                #expect(try one.connectorNames() == ["conn_2": "Support"])
            }
        }
    }
}
