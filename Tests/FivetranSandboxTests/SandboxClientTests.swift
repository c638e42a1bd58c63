import Fivetran
import Foundation
import Sandbox
import SwitchboardTesting
import Testing
import Transport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The real client and URLSession against a running sandbox on a free loopback port each.
@Suite struct SandboxClientTests {
    static let redirect = URL(string: "http://127.0.0.1:9/connectors/return")!

    /// Starts a sandbox, runs `body` with a client on it, stops it.
    func withSandbox(
        _ options: FivetranSandbox.Options = .init(), style: FivetranClient.PathStyle = .current, secret: String? = nil,
        _ body: (FivetranSandbox, FivetranClient) async throws -> Void
    ) async throws {
        let sandbox = FivetranSandbox(options: options)
        let base = try await sandbox.start()
        let client = FivetranClient(
            baseURL: base, apiKey: options.apiKey, apiSecret: secret ?? options.apiSecret, pathStyle: style,
            retryPolicy: FivetranRetryPolicy(baseDelay: .milliseconds(1), defaultRetryAfter: .milliseconds(1)))
        do {
            try await body(sandbox, client)
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    @Test func listsAllOf1200ConnectionsAcrossPages() async throws {
        try await withSandbox(.init(seededConnections: 1_200)) { sandbox, client in
            let connections = try await client.connections(group: sandbox.options.groupID)
            #expect(connections.count == 1_200)
            #expect(Set(connections.map(\.id)).count == 1_200)
            #expect(sandbox.stats()["GET /v1/groups/{id}/connections"] == 2)
            #expect(connections.contains { $0.status.setupState == "connected" && $0.succeededAt != nil })
            #expect(connections.contains { $0.status.setupState == "incomplete" })
        }
    }

    @Test func listsTheWholeCatalogWithIconsOnTheSandbox() async throws {
        try await withSandbox { sandbox, client in
            let types = try await client.connectorTypes()
            #expect(types.count == 773)
            let first = try #require(types.first)
            #expect(first.iconURL?.host == "127.0.0.1")
            #expect(first.iconURL?.port == Int(sandbox.port ?? 0))
            let (data, response) = try await URLSession.shared.data(from: try #require(first.iconURL))
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            #expect(String(decoding: data, as: UTF8.self).hasPrefix("<svg"))
        }
    }

    @Test func createsAConnectionWhoseCardPointsAtTheSandbox() async throws {
        try await withSandbox { sandbox, client in
            let created = try await client.createConnection(
                service: "adroll", group: sandbox.options.groupID, schemaName: "adroll_pbf_1", redirectURI: Self.redirect)
            #expect(created.schema == "adroll_pbf_1.adroll_pbf_1")
            #expect(created.status.setupState == "incomplete")
            let card = try #require(created.connectCard)
            #expect(card.uri.host == "127.0.0.1")
            #expect(card.uri.port == Int(sandbox.port ?? 0))
            #expect(card.uri.path == "/connect-card/setup")
            let again = try await client.connectCard(id: created.id, redirectURI: Self.redirect)
            #expect(again != card.uri)
            let fetched = try await client.connection(id: created.id)
            #expect(fetched.id == created.id)
        }
    }

    @Test func theConnectCardSetupMarksTheConnectionConnectedAndRedirects() async throws {
        try await withSandbox { sandbox, client in
            let created = try await client.createConnection(
                service: "15five", group: sandbox.options.groupID, schemaName: "fifteen", redirectURI: Self.redirect)
            let uri = try #require(created.connectCard?.uri)
            let (page, pageResponse) = try await URLSession.shared.data(from: uri)
            #expect((pageResponse as? HTTPURLResponse)?.statusCode == 200)
            let html = String(decoding: page, as: UTF8.self)
            #expect(html.contains("Save &amp; Test"))
            let token = try #require(
                URLComponents(url: uri, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "auth" }?.value)

            var post = URLRequest(url: URL(string: "/connect-card/setup", relativeTo: uri)!.absoluteURL)
            post.httpMethod = "POST"
            post.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            post.httpBody = Data(
                "auth=\(token)&redirect_uri=\(Self.redirect.absoluteString.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
                    .utf8)
            let (_, response) = try await URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil).data(
                for: post)
            let http = try #require(response as? HTTPURLResponse)
            #expect(http.statusCode == 302)
            #expect(http.value(forHTTPHeaderField: "Location") == Self.redirect.absoluteString + "?id=" + created.id)
            let after = try await client.connection(id: created.id)
            #expect(after.status.setupState == "connected")
            #expect(after.succeededAt != nil)

            sandbox.advanceClock(by: 25 * 3600)
            let (_, expired) = try await URLSession.shared.data(from: uri)
            #expect((expired as? HTTPURLResponse)?.statusCode == 404)
        }
    }

    @Test func aDuplicateSchemaInTheGroupIsAConflict() async throws {
        try await withSandbox { sandbox, client in
            _ = try await client.createConnection(
                service: "15five", group: sandbox.options.groupID, schemaName: "dup", redirectURI: Self.redirect)
            let error = await #expect(throws: FivetranError.self) {
                try await client.createConnection(
                    service: "salesforce", group: sandbox.options.groupID, schemaName: "dup", redirectURI: Self.redirect)
            }
            guard case .conflict(let message)? = error else {
                Issue.record("got \(String(describing: error))")
                return
            }
            #expect(message?.contains("dup") == true)
        }
    }

    @Test func anUnknownGroupIsNotFound() async throws {
        try await withSandbox { _, client in
            await #expect(throws: FivetranError.notFound(message: "Group with id 'nope' does not exist.")) {
                try await client.connections(group: "nope")
            }
        }
    }

    @Test func aWrongSecretIsUnauthorizedAndNeverShown() async throws {
        try await withSandbox(secret: "wrong-secret-xyz") { sandbox, client in
            let error = await #expect(throws: FivetranError.self) { try await client.connections(group: sandbox.options.groupID) }
            #expect(error == .unauthorized(message: "Invalid authorization credentials"))
            #expect(error?.description.contains("wrong-secret-xyz") == false)
        }
    }

    @Test func anInjected429IsWaitedOutAndRetried() async throws {
        try await withSandbox { sandbox, client in
            sandbox.injectFaults(status: 429, count: 2, retryAfter: 0)
            let connections = try await client.connections(group: sandbox.options.groupID)
            #expect(connections.count == 40)
            #expect(sandbox.stats()["GET /v1/groups/{id}/connections"] == 3)
        }
    }

    @Test func anInjected503IsRetriedWithBackoff() async throws {
        try await withSandbox { sandbox, client in
            sandbox.injectFaults(status: 503, count: 1, retryAfter: 0)
            let types = try await client.connectorTypes()
            #expect(types.count == 773)
        }
    }

    @Test func theHourlyQuotaAnswers429WithRetryAfter() async throws {
        try await withSandbox(.init(hourlyQuota: 2)) { sandbox, client in
            _ = try await client.connection(id: try await client.connections(group: sandbox.options.groupID)[0].id)
            let error = await #expect(throws: FivetranError.self) { try await client.connections(group: sandbox.options.groupID) }
            guard case .rateLimited(let retryAfter, _)? = error else {
                Issue.record("got \(String(describing: error))")
                return
            }
            #expect(retryAfter != nil)
        }
    }

    @Test func legacyPathsServeTheSameStore() async throws {
        try await withSandbox(style: .legacy) { sandbox, client in
            let types = try await client.connectorTypes()
            #expect(types.count == 773)
            let created = try await client.createConnection(
                service: "aurora_postgres", group: sandbox.options.groupID, schemaName: "pg", redirectURI: Self.redirect)
            #expect(created.schema == "pg")
            #expect(created.connectCard != nil)
            let listed = try await client.connections(group: sandbox.options.groupID)
            #expect(listed.contains { $0.id == created.id })
            _ = try await client.connectCard(id: created.id, redirectURI: Self.redirect)
            let stats = sandbox.stats()
            #expect(stats["GET /v1/metadata/connectors"] == 1)
            #expect(stats["GET /v1/groups/{id}/connectors"] == 1)
            #expect(stats["POST /v1/connectors"] == 1)
            #expect(stats["POST /v1/connectors/{id}/connect-card"] == 1)
        }
    }
}

@Suite struct SandboxManagementTests {
    func withSandbox(
        _ options: FivetranSandbox.Options = .init(), _ body: (FivetranSandbox, FivetranClient) async throws -> Void
    ) async throws {
        let sandbox = FivetranSandbox(options: options)
        let base = try await sandbox.start()
        let client = FivetranClient(baseURL: base, apiKey: options.apiKey, apiSecret: options.apiSecret, retryPolicy: .none)
        do {
            try await body(sandbox, client)
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    func first(_ client: FivetranClient, _ sandbox: FivetranSandbox, _ match: (Connection) -> Bool) async throws -> Connection {
        try #require(try await client.connections(group: sandbox.options.groupID).first(where: match))
    }

    @Test func brokenSeededConnectionsCarryAReconnectTaskAndSomeHealthyOnesAWarning() async throws {
        try await withSandbox { sandbox, client in
            let all = try await client.connections(group: sandbox.options.groupID)
            let broken = all.filter { $0.status.setupState == "broken" }
            #expect(!broken.isEmpty)
            #expect(broken.allSatisfy { $0.status.tasks.first?.code == "reconnect" })
            #expect(all.contains { !$0.status.warnings.isEmpty })
            #expect(all.allSatisfy { $0.syncFrequency != nil && $0.dailySyncTime == "03:00" })
        }
    }

    @Test func patchChecksSyncFrequencyAndChangesPaused() async throws {
        try await withSandbox { sandbox, client in
            let connection = try await first(client, sandbox) { $0.status.setupState == "connected" && !$0.paused }
            let paused = try await client.updateConnection(id: connection.id, paused: true, syncFrequency: 5)
            #expect(paused.paused && paused.syncFrequency == 5 && paused.status.syncState == "paused")
            let resumed = try await client.updateConnection(id: connection.id, paused: false)
            #expect(!resumed.paused && resumed.status.syncState == "scheduled")
            for bad in [0, 7, 1441] {
                await #expect {
                    _ = try await client.updateConnection(id: connection.id, syncFrequency: bad)
                } throws: { error in
                    guard case .badRequest(let message)? = error as? FivetranError else { return false }
                    return message?.contains("sync_frequency") == true
                }
            }
            await #expect(throws: FivetranError.self) { _ = try await client.updateConnection(id: "nope", paused: true) }
        }
    }

    @Test func aSyncOfAnIncompleteConnectionIs409() async throws {
        try await withSandbox { sandbox, client in
            let incomplete = try await first(client, sandbox) { $0.status.setupState == "incomplete" }
            await #expect {
                try await client.syncConnection(id: incomplete.id)
            } throws: { error in
                guard case .conflict(let message)? = error as? FivetranError else { return false }
                return message?.contains("incomplete") == true
            }
        }
    }

    @Test func aSyncRunsThenEndsWithSucceededAtMovedOn() async throws {
        // An hour on the stand-in's clock, moved on by hand: a loaded machine's seconds change nothing.
        try await withSandbox(.init(syncDuration: 3600)) { sandbox, client in
            let connection = try await first(client, sandbox) { $0.status.setupState == "connected" && !$0.paused }
            try await client.syncConnection(id: connection.id)
            #expect(try await client.connection(id: connection.id).status.syncState == "syncing")
            sandbox.advanceClock(by: 3601)
            let after = try await client.connection(id: connection.id)
            #expect(after.status.syncState == "scheduled")
            #expect((after.succeededAt ?? .distantPast) > (connection.succeededAt ?? .distantPast))
            #expect(sandbox.received().map(\.path) == ["/v1/connections/\(connection.id)/sync"])
        }
    }

    @Test func deleteRemovesItFromTheGroup() async throws {
        try await withSandbox { sandbox, client in
            let connection = try await first(client, sandbox) { _ in true }
            try await client.deleteConnection(id: connection.id)
            await #expect(throws: FivetranError.notFound(message: "Connector with id '\(connection.id)' does not exist.")) {
                _ = try await client.connection(id: connection.id)
            }
            #expect(try await client.connections(group: sandbox.options.groupID).count == 39)
            await #expect(throws: FivetranError.self) { try await client.deleteConnection(id: connection.id) }
        }
    }
}
