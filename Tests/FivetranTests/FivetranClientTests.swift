import Foundation
import SwitchboardTesting
import Testing
import Transport

@testable import Fivetran

@Suite struct FivetranClientTests {
    static let secret = "s3cr3t-VALUE-never-shown"
    let clock = TestClock()

    func client(
        _ transport: ScriptedTransport, style: FivetranClient.PathStyle = .current,
        policy: FivetranRetryPolicy = FivetranRetryPolicy()
    ) -> FivetranClient {
        let clock = self.clock
        return FivetranClient(
            baseURL: URL(string: "https://api.example.test")!, apiKey: "key123", apiSecret: Self.secret,
            pathStyle: style, transport: transport, retryPolicy: policy, callBudget: .seconds(60),
            sleep: clock.sleep(for:), now: { clock.instant })
    }

    static func connectionJSON(_ id: String, schema: String = "s", setup: String = "incomplete") -> String {
        #"{"id":"\#(id)","service":"salesforce","schema":"\#(schema)","group_id":"g1","paused":false,"created_at":"2024-03-05T10:11:12.123456Z","succeeded_at":null,"failed_at":"2024-03-06T00:00:00Z","status":{"setup_state":"\#(setup)","sync_state":"scheduled","update_state":"on_schedule","is_historical_sync":true,"tasks":[],"warnings":[]},"sync_frequency":360}"#
    }

    static func page(_ ids: [String], next: String?) -> String {
        let items = ids.map { connectionJSON($0) }.joined(separator: ",")
        let cursor = next.map { #","next_cursor":"\#($0)""# } ?? ""
        return #"{"code":"Success","data":{"items":[\#(items)]\#(cursor)}}"#
    }

    @Test func listsEveryPageFollowingTheCursorToTheEnd() async throws {
        let transport = ScriptedTransport([
            .json(Self.page(["a", "b"], next: "c1")),
            .json(Self.page(["c", "d"], next: "c2")),
            .json(Self.page(["e"], next: nil)),
        ])
        let connections = try await client(transport).connections(group: "g1")
        #expect(connections.map { $0.id } == ["a", "b", "c", "d", "e"])
        let urls = transport.requests.map { $0.url.absoluteString }
        #expect(
            urls == [
                "https://api.example.test/v1/groups/g1/connections?limit=1000",
                "https://api.example.test/v1/groups/g1/connections?limit=1000&cursor=c1",
                "https://api.example.test/v1/groups/g1/connections?limit=1000&cursor=c2",
            ])
    }

    @Test func decodesTheEnvelopeAndKeepsTheRawObject() async throws {
        let transport = ScriptedTransport([
            .json(#"{"code":"Success","data":\#(Self.connectionJSON("abc", schema: "sales", setup: "connected"))}"#)
        ])
        let connection = try await client(transport).connection(id: "abc")
        #expect(connection.id == "abc")
        #expect(connection.schema == "sales")
        #expect(connection.groupID == "g1")
        #expect(connection.status.setupState == "connected")
        #expect(connection.status.isHistoricalSync)
        #expect(abs((connection.createdAt?.timeIntervalSince1970 ?? 0) - 1_709_633_472.123) < 0.001)
        #expect(connection.succeededAt == nil)
        #expect(connection.failedAt != nil)
        #expect(connection.raw["sync_frequency"] == JSONValue.int(360))
        let reencoded = try JSONDecoder().decode([String: JSONValue].self, from: JSONEncoder().encode(connection))
        #expect(reencoded == connection.raw)
    }

    @Test func decodesConnectorTypes() async throws {
        let transport = ScriptedTransport([
            .json(
                #"{"code":"Success","data":{"items":[{"id":"15five","name":"15Five","type":"HumanResources","description":"d","icon_url":"https://x.test/i.svg","icons":["https://x.test/i.svg"],"link_to_docs":"https://fivetran.com/docs/x","connector_class":"lite","service_status":"general_availability"}]}}"#
            )
        ])
        let types = try await client(transport).connectorTypes()
        #expect(types.count == 1)
        #expect(types[0].name == "15Five")
        #expect(types[0].iconURL?.host == "x.test")
        #expect(types[0].serviceStatus == "general_availability")
        #expect(transport.requests[0].url.path == "/v1/metadata/connector-types")
    }

    @Test(arguments: [
        (400, FivetranError.badRequest(message: "m")), (401, .unauthorized(message: "m")), (403, .forbidden(message: "m")),
        (404, .notFound(message: "m")), (409, .conflict(message: "m")), (405, .unexpectedStatus(status: 405, message: "m")),
        (406, .unexpectedStatus(status: 406, message: "m")), (415, .unexpectedStatus(status: 415, message: "m")),
    ])
    func mapsEachErrorStatus(status: Int, expected: FivetranError) async {
        let transport = ScriptedTransport([.json(#"{"code":"Whatever","message":"m"}"#, status: status)])
        await #expect(throws: expected) { try await client(transport).connection(id: "x") }
        #expect(transport.requests.count == 1)
    }

    @Test func aServerErrorIsRetriedThenReported() async {
        let transport = ScriptedTransport(
            Array(repeating: .json(#"{"code":"Unavailable","message":"down"}"#, status: 503), count: 5))
        await #expect(throws: FivetranError.server(status: 503, message: "down")) {
            try await client(transport).connection(id: "x")
        }
        #expect(transport.requests.count == 3)
        #expect(clock.sleeps == [.milliseconds(250), .milliseconds(500)])
    }

    @Test func aTransportErrorIsRetriedThenReportedAsUnreachable() async {
        let url = URL(string: "https://api.example.test/v1/connections/x")!
        let transport = ScriptedTransport(Array(repeating: .fail(.connectionFailed(url, "refused")), count: 3))
        let error = await #expect(throws: FivetranError.self) { try await client(transport).connection(id: "x") }
        guard case .unreachable(let reason)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(reason.contains("api.example.test"))
        #expect(transport.requests.count == 3)
    }

    @Test func aRateLimitIsWaitedOutThenSucceeds() async throws {
        let transport = ScriptedTransport([
            .json(#"{"code":"TooManyRequests","message":"slow down"}"#, status: 429, headers: ["Retry-After": "7"]),
            .json(#"{"code":"Success","data":\#(Self.connectionJSON("x"))}"#),
        ])
        let connection = try await client(transport).connection(id: "x")
        #expect(connection.id == "x")
        #expect(clock.sleeps == [.seconds(7)])
    }

    @Test func aRateLimitBeyondTheDeadlineFailsAtOnce() async {
        let transport = ScriptedTransport([
            .json(#"{"code":"TooManyRequests","message":"hourly"}"#, status: 429, headers: ["Retry-After": "3600"])
        ])
        await #expect(throws: FivetranError.rateLimited(retryAfter: .seconds(3600), message: "hourly")) {
            try await client(transport).connection(id: "x", deadline: clock.instant.advanced(by: .seconds(10)))
        }
        #expect(clock.sleeps.isEmpty)
    }

    @Test func rateLimitRetriesAreBounded() async {
        let transport = ScriptedTransport(
            Array(
                repeating: .json(#"{"code":"TooManyRequests","message":"m"}"#, status: 429, headers: ["Retry-After": "1"]),
                count: 10))
        await #expect(throws: FivetranError.rateLimited(retryAfter: .seconds(1), message: "m")) {
            try await client(transport).connection(id: "x")
        }
        #expect(transport.requests.count == 4)
    }

    @Test func aCreateIsNotResentAfterAServerError() async {
        let transport = ScriptedTransport([.json(#"{"code":"Error","message":"oops"}"#, status: 500), .json("{}", status: 500)])
        await #expect(throws: FivetranError.server(status: 500, message: "oops")) {
            try await client(transport).createConnection(
                service: "15five", group: "g1", schemaName: "n", redirectURI: URL(string: "http://app.test/r")!)
        }
        #expect(transport.requests.count == 1)
    }

    func createBody(service: String) async throws -> [String: JSONValue] {
        let transport = ScriptedTransport([
            .json(
                #"{"code":"Success","data":{"id":"new1","service":"\#(service)","schema":"n","group_id":"g1","paused":false,"status":{"setup_state":"incomplete"},"connect_card":{"token":"t","uri":"https://card.test/connect-card/setup?auth=t"}}}"#,
                status: 201)
        ])
        let created = try await client(transport).createConnection(
            service: service, group: "g1", schemaName: "my_name", redirectURI: URL(string: "http://app.test/return")!)
        #expect(created.connectCard?.uri.host == "card.test")
        let request = try #require(transport.requests.first)
        #expect(request.method == "POST")
        #expect(request.headers["Content-Type"] == "application/json")
        return try JSONDecoder().decode([String: JSONValue].self, from: request.body ?? Data())
    }

    @Test(arguments: [
        ("15five", ["schema": "my_name"]),
        ("adroll", ["schema": "my_name", "table": "my_name"]),
        ("aurora_postgres", ["schema_prefix": "my_name"]),
        ("gcs", ["schema": "my_name", "table_group_name": "my_name"]),
    ])
    func theCreateBodyUsesTheServicesSchemaFormat(service: String, config: [String: String]) async throws {
        let body = try await createBody(service: service)
        #expect(body["config"] == .object(config.mapValues(JSONValue.string)))
        #expect(body["service"] == .string(service))
        #expect(body["group_id"] == .string("g1"))
        #expect(body["run_setup_tests"] == .bool(false))
        #expect(body["paused"] == .bool(false))
        #expect(body["connect_card_config"]?["redirect_uri"] == .string("http://app.test/return"))
    }

    @Test func schemaFormatsComeFromTheGeneratedTable() {
        let formats = SchemaFormats.bundled
        #expect(formats.services.count == 773)
        #expect(formats["15five"] == .schema)
        #expect(formats["adroll"] == .schemaTable)
        #expect(formats["aurora_postgres"] == .schemaPrefix)
        #expect(formats["gcs"] == .schemaTableGroup)
        #expect(formats["no_such_service"] == nil)
    }

    @Test func aCreateWithoutACardInTheReplyAsksForOne() async throws {
        let transport = ScriptedTransport([
            .json(#"{"code":"Success","data":\#(Self.connectionJSON("new1"))}"#, status: 201),
            .json(
                #"{"code":"Success","data":{"connector_id":"new1","connect_card":{"token":"t2","uri":"https://card.test/connect-card/setup?auth=t2"}}}"#
            ),
        ])
        let created = try await client(transport).createConnection(
            service: "15five", group: "g1", schemaName: "n", redirectURI: URL(string: "http://app.test/r")!)
        #expect(created.connectCard?.uri.absoluteString == "https://card.test/connect-card/setup?auth=t2")
        #expect(transport.requests.map { $0.url.path } == ["/v1/connections", "/v1/connections/new1/connect-card"])
    }

    @Test(arguments: [
        (
            FivetranClient.PathStyle.current,
            [
                "/v1/metadata/connector-types", "/v1/groups/g1/connections", "/v1/connections/c1",
                "/v1/connections/c1/connect-card", "/v1/connections",
            ]
        ),
        (
            .legacy,
            [
                "/v1/metadata/connectors", "/v1/groups/g1/connectors", "/v1/connectors/c1", "/v1/connectors/c1/connect-card",
                "/v1/connectors",
            ]
        ),
    ])
    func pathsFollowTheStyle(style: FivetranClient.PathStyle, paths: [String]) async throws {
        let card = #"{"code":"Success","data":{"connector_id":"c1","connect_card":{"token":"t","uri":"https://card.test/x"}}}"#
        let transport = ScriptedTransport([
            .json(#"{"code":"Success","data":{"items":[]}}"#),
            .json(#"{"code":"Success","data":{"items":[]}}"#),
            .json(#"{"code":"Success","data":\#(Self.connectionJSON("c1"))}"#),
            .json(card),
            .json(
                #"{"code":"Success","data":{"id":"c2","connect_card":{"token":"t","uri":"https://card.test/y"}}}"#, status: 201),
        ])
        let client = client(transport, style: style)
        _ = try await client.connectorTypes()
        _ = try await client.connections(group: "g1")
        _ = try await client.connection(id: "c1")
        _ = try await client.connectCard(id: "c1", redirectURI: URL(string: "http://app.test/r")!)
        _ = try await client.createConnection(
            service: "15five", group: "g1", schemaName: "n", redirectURI: URL(string: "http://app.test/r")!)
        #expect(transport.requests.map { $0.url.path } == paths)
    }

    @Test func sendsBasicAuthOnEveryRequest() async throws {
        let transport = ScriptedTransport([.json(#"{"code":"Success","data":\#(Self.connectionJSON("x"))}"#)])
        _ = try await client(transport).connection(id: "x")
        let expected = "Basic " + Data("key123:\(Self.secret)".utf8).base64EncodedString()
        #expect(transport.requests[0].headers["Authorization"] == expected)
        #expect(transport.requests[0].headers["Accept"] == "application/json")
    }

    @Test func aBaseURLEndingInV1IsAccepted() async throws {
        let transport = ScriptedTransport([.json(#"{"code":"Success","data":\#(Self.connectionJSON("x"))}"#)])
        let client = FivetranClient(
            baseURL: URL(string: "https://api.example.test/v1/")!, apiKey: "k", apiSecret: "s", transport: transport)
        _ = try await client.connection(id: "x")
        #expect(transport.requests[0].url.absoluteString == "https://api.example.test/v1/connections/x")
    }

    @Test func theSecretAppearsInNoErrorOrDescription() async {
        let auth = Data("key123:\(Self.secret)".utf8).base64EncodedString()
        let transport = ScriptedTransport([
            .json(
                #"{"code":"AuthFailed","message":"Invalid authorization credentials for \#(Self.secret) / \#(auth)"}"#,
                status: 401)
        ])
        let client = client(transport)
        let error = await #expect(throws: FivetranError.self) { try await client.connections(group: "g1") }
        let texts = [
            String(describing: error), error?.description ?? "", String(reflecting: error), String(describing: client),
            String(reflecting: client),
            {
                var s = ""
                dump(client, to: &s)
                return s
            }(),
        ]
        for text in texts {
            #expect(!text.contains(Self.secret))
            #expect(!text.contains(auth))
        }
        #expect(
            error?.description.hasPrefix("Fivetran rejected the API key or secret (401): Invalid authorization credentials")
                == true)
    }

    @Test func aRepeatedCursorStopsInsteadOfLooping() async {
        let transport = ScriptedTransport([.json(Self.page(["a"], next: "same")), .json(Self.page(["b"], next: "same"))])
        let error = await #expect(throws: FivetranError.self) { try await client(transport).connections(group: "g1") }
        guard case .malformedResponse? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
    }

    @Test func aBodyThatIsNotTheEnvelopeIsMalformed() async {
        let transport = ScriptedTransport([.reply(HTTPResponse(status: 200, body: Data("<html>".utf8)))])
        await #expect(
            throws: FivetranError.malformedResponse(
                route: "GET /v1/connections/x", reason: "unreadable JSON at the top level: The given data was not valid JSON.")
        ) {
            try await client(transport).connection(id: "x")
        }
    }
}

@Suite struct FivetranConnectionManagementTests {
    let clock = TestClock()

    func client(_ transport: ScriptedTransport) -> FivetranClient {
        let clock = self.clock
        return FivetranClient(
            baseURL: URL(string: "https://api.example.test")!, apiKey: "key123", apiSecret: "secret", transport: transport,
            callBudget: .seconds(60), sleep: clock.sleep(for:), now: { clock.instant })
    }

    static let full = #"""
        {"code":"Success","data":{"id":"c1","service":"salesforce","schema":"sales","group_id":"g1","paused":true,
        "created_at":"2024-03-05T10:11:12.123456Z","succeeded_at":"2024-03-06T00:00:00Z","failed_at":null,
        "sync_frequency":60,"schedule_type":"auto","daily_sync_time":"03:00",
        "status":{"setup_state":"broken","sync_state":"paused","update_state":"delayed","is_historical_sync":false,
        "tasks":[{"code":"reconnect","message":"Reconnect","details":"The credentials expired"}, 7],
        "warnings":[{"code":"resync_table_warning","message":"Resync","details":{"table":"orders"}}]}}}
        """#

    @Test func readsTheFullStatusScheduleTasksAndWarnings() async throws {
        let connection = try await client(ScriptedTransport([.json(Self.full)])).connection(id: "c1")
        #expect(connection.syncFrequency == 60)
        #expect(connection.scheduleType == "auto")
        #expect(connection.dailySyncTime == "03:00")
        #expect(connection.paused)
        #expect(connection.status.updateState == "delayed")
        #expect(
            connection.status.tasks == [
                ConnectionAlert(code: "reconnect", message: "Reconnect", details: "The credentials expired")
            ])
        #expect(connection.status.warnings.first?.details == #"{"table":"orders"}"#)
        #expect(connection.succeededAt != nil && connection.failedAt == nil)
    }

    @Test func anUpdateSendsOnlyTheFieldsGiven() async throws {
        let transport = ScriptedTransport([.json(Self.full), .json(Self.full)])
        _ = try await client(transport).updateConnection(id: "c 1", paused: true)
        _ = try await client(transport).updateConnection(id: "c1", syncFrequency: 1440)
        let requests = transport.requests
        #expect(requests.map(\.method) == ["PATCH", "PATCH"])
        #expect(requests[0].url.path == "/v1/connections/c 1")
        #expect(requests[0].body.map { String(decoding: $0, as: UTF8.self) } == #"{"paused":true}"#)
        #expect(requests[1].body.map { String(decoding: $0, as: UTF8.self) } == #"{"sync_frequency":1440}"#)
    }

    @Test func syncPostsAndAnswersFivetransMessage() async throws {
        let transport = ScriptedTransport([.json(#"{"code":"Success","message":"Sync has been successfully triggered"}"#)])
        let message = try await client(transport).syncConnection(id: "c1")
        #expect(message == "Sync has been successfully triggered")
        #expect(transport.requests.first?.method == "POST")
        #expect(transport.requests.first?.url.path == "/v1/connections/c1/sync")
    }

    @Test func deleteSendsDelete() async throws {
        let transport = ScriptedTransport([.json(#"{"code":"Success","message":"Connection has been deleted"}"#)])
        try await client(transport).deleteConnection(id: "c1")
        #expect(transport.requests.first?.method == "DELETE")
        #expect(transport.requests.first?.url.path == "/v1/connections/c1")
    }

    @Test func errorsCarryWhatAPersonNeeds() async {
        let cases: [(ScriptedTransport.Step, FivetranError)] = [
            (.json(#"{"code":"NotFound_Connector","message":"gone"}"#, status: 404), .notFound(message: "gone")),
            (.json(#"{"code":"Conflict","message":"setup incomplete"}"#, status: 409), .conflict(message: "setup incomplete")),
            (
                .json(#"{"code":"InvalidInput","message":"bad sync_frequency"}"#, status: 400),
                .badRequest(message: "bad sync_frequency")
            ),
            (
                .json(#"{"code":"TooManyRequests","message":"slow down"}"#, status: 429, headers: ["Retry-After": "120"]),
                .rateLimited(retryAfter: .seconds(120), message: "slow down")
            ),
        ]
        for (step, expected) in cases {
            await #expect(throws: expected) { try await client(ScriptedTransport([step])).syncConnection(id: "c1") }
        }
    }
}
