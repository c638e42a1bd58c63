import Fivetran
import Foundation
import Model
import Web

/// What `/connectors/{id}` says after an action sent the visitor back (`?notice=…`): fixed
/// words, so nothing in the address can put text on the page.
enum ConnectorNotice: String, Sendable {
    case synced, paused, resumed, frequency
    case syncIncomplete = "sync-incomplete"
    case syncBroken = "sync-broken"
    case syncPaused = "sync-paused"

    init?(_ request: Request) {
        guard let value = request.query["notice"], let notice = ConnectorNotice(rawValue: value) else { return nil }
        self = notice
    }

    /// Good news (green) or a refusal (amber).
    var refused: Bool { self == .syncIncomplete || self == .syncPaused }

    func text(frequency: Int?) -> String {
        switch self {
        case .synced: "Fivetran is starting a sync now. The sync state below changes as it runs."
        case .paused: "Paused: Fivetran will not sync this connector until it is resumed."
        case .resumed: "Resumed: Fivetran syncs this connector on its schedule again."
        case .frequency: "Saved: Fivetran now syncs this connector \(ConnectorFrequency.words(frequency))."
        case .syncBroken: "Fivetran is starting a sync, but the connector is broken: fix what is listed below first."
        case .syncIncomplete:
            "Not synced: this connector's setup is not finished, so Fivetran has nothing to sync yet. Finish the setup first."
        case .syncPaused: "Not synced: this connector is paused. Resume it first; Fivetran then syncs it on its schedule."
        }
    }
}

/// Sync frequencies in words.
enum ConnectorFrequency {
    static func words(_ minutes: Int?) -> String {
        guard let minutes else { return "on Fivetran's default schedule" }
        switch minutes {
        case 1: return "every minute"
        case 1440: return "once a day"
        case let m where m % 60 == 0: return m == 60 ? "every hour" : "every \(m / 60) hours"
        default: return "every \(minutes) minutes"
        }
    }

    static func label(_ minutes: Int) -> String {
        let text = words(minutes)
        return text.prefix(1).uppercased() + text.dropFirst()
    }
}

/// `/connectors/{id}`: one connector, what Fivetran says about it, what to do next, and the
/// forms that change it. Per visitor (the forms carry a CSRF token), so rendered per view.
struct ConnectorDetailPage: Sendable {
    /// One of Fivetran's `tasks` or `warnings`, in words, with the next step.
    struct Alert: Sendable {
        let code: String
        let message: String
        let details: String?
        let nextStep: String
        /// The button that fixes it, when Switchboard has one.
        let fixURL: String?
        let fixLabel: String?
    }

    struct FrequencyOption: Sendable {
        let value: Int
        let label: String
        let selected: Bool
    }

    let id: String
    let name: String
    let serviceName: String
    let icon: String?
    let docs: String?
    let schema: String
    let created: Moment?
    let createdBy: String?
    let setup: Badge
    let sync: Badge
    let updateDelayed: Bool
    let paused: Bool
    let frequency: String
    let scheduleType: String?
    let dailySyncTime: String?
    let succeeded: Moment?
    let failed: Moment?
    let tasks: [Alert]
    let warnings: [Alert]
    let hasAlerts: Bool
    let setupURL: String
    let needsSetup: Bool
    let frequencies: [FrequencyOption]
    let canPause: Bool
    let canResume: Bool
    /// Why Sync now would be refused, when it would.
    let syncRefusal: String?
    let notice: String?
    let noticeRefused: Bool
    /// Fivetran's refusal of the action just sent, in words.
    let error: String?
    /// Its latest audit entries, drawn as the audit page draws them, with the link to all.
    let audit: AuditExcerpt
    let fetchedAt: String
    let fromList: Bool

    init(
        detail: ConnectorDetail, catalog: Catalog?, audit: [AuditEntry], createdBy: String?, notice: ConnectorNotice? = nil,
        error: String? = nil, chosenFrequency: Int? = nil, now: Date = Date()
    ) {
        let connection = detail.row.connection
        let type = catalog?.byID[connection.service]
        id = connection.id
        name = detail.row.name
        serviceName = type?.name ?? connection.service
        icon = Format.https(type?.iconURL)
        docs = Format.https(type?.linkToDocs)
        schema = connection.schema
        created = Moment(connection.createdAt)
        self.createdBy = createdBy
        setup = .setup(connection.status.setupState)
        sync = .sync(connection.status.syncState)
        updateDelayed = connection.status.updateState == "delayed"
        paused = connection.paused
        frequency = ConnectorFrequency.words(connection.syncFrequency)
        scheduleType = connection.scheduleType.map { $0 == "manual" ? "manual (syncs only when asked)" : "automatic" }
        dailySyncTime = connection.syncFrequency == 1440 ? connection.dailySyncTime.map { "\($0) UTC" } : nil
        succeeded = Moment(connection.succeededAt)
        failed = Moment(connection.failedAt)
        let setupURL = "/connectors/\(percentEncode(connection.id))/setup"
        self.setupURL = setupURL
        needsSetup = connection.status.setupState == "incomplete"
        var tasks = connection.status.tasks.map { Self.alert($0, setupURL: setupURL, task: true) }
        if tasks.isEmpty, connection.status.setupState == "broken" {
            tasks.append(
                Alert(
                    code: "broken", message: "Fivetran marks this connector broken without saying why.",
                    details: nil,
                    nextStep: "Open the Connect Card: it runs the setup tests again and says what fails.",
                    fixURL: setupURL, fixLabel: "Open the Connect Card"))
        } else if tasks.isEmpty, connection.status.setupState == "incomplete" {
            tasks.append(
                Alert(
                    code: "setup_incomplete", message: "Setup is not finished: Fivetran has no credentials for the source yet.",
                    details: nil, nextStep: "Finish the setup in the Connect Card; Fivetran then syncs on the schedule below.",
                    fixURL: setupURL, fixLabel: "Finish setup"))
        }
        self.tasks = tasks
        warnings = connection.status.warnings.map { Self.alert($0, setupURL: setupURL, task: false) }
        hasAlerts = !tasks.isEmpty || !warnings.isEmpty
        let chosen = chosenFrequency ?? connection.syncFrequency
        frequencies = ConnectionSchedule.frequencies.map {
            FrequencyOption(value: $0, label: ConnectorFrequency.label($0), selected: $0 == chosen)
        }
        canPause = !connection.paused
        canResume = connection.paused
        syncRefusal = Self.refusal(for: connection)?.text(frequency: nil)
        self.notice = notice?.text(frequency: connection.syncFrequency)
        noticeRefused = notice?.refused ?? false
        self.error = error
        self.audit = AuditExcerpt(object: "connector:\(connection.id)", entries: audit, now: now)
        fetchedAt = clock(detail.fetchedAt)
        fromList = detail.fromList
    }

    /// Why a sync would be refused without asking Fivetran, or nil when it may be asked.
    static func refusal(for connection: Connection) -> ConnectorNotice? {
        if connection.status.setupState == "incomplete" { return .syncIncomplete }
        if connection.paused { return .syncPaused }
        return nil
    }

    /// A task or warning in words, with the step that deals with it.
    static func alert(_ alert: ConnectionAlert, setupURL: String, task: Bool) -> Alert {
        let code = alert.code.lowercased()
        let message = alert.message.isEmpty ? alert.code : alert.message
        if code.contains("reconnect") || code.contains("credential") || code.contains("auth") {
            return Alert(
                code: alert.code, message: message, details: alert.details,
                nextStep: "Fivetran can no longer sign in to the source. Open the Connect Card and enter the credentials again; "
                    + "syncs resume once its tests pass.",
                fixURL: setupURL, fixLabel: "Reconnect in the Connect Card")
        }
        if code.contains("resync") {
            return Alert(
                code: alert.code, message: message, details: alert.details,
                nextStep: "Syncs go on meanwhile. Re-sync the table from Fivetran's dashboard when it suits you.",
                fixURL: nil, fixLabel: nil)
        }
        return Alert(
            code: alert.code, message: message, details: alert.details,
            nextStep: task
                ? "Fivetran needs this done before it can sync. The Connect Card shows the connector's settings and tests."
                : "Syncs go on meanwhile. Review the connector's settings in the Connect Card if this persists.",
            fixURL: setupURL, fixLabel: task ? "Open the Connect Card" : "Review in the Connect Card")
    }
}

/// `/connectors/{id}/delete`: type the schema name to confirm.
struct DeleteConnectorPage: Sendable {
    let id: String
    let name: String
    let schema: String
    let typed: String
    let confirmError: String?
    /// Fivetran's refusal, in words.
    let error: String?

    init(row: ConnectorRow, typed: String = "", confirmError: String? = nil, error: String? = nil) {
        id = row.connection.id
        name = row.name
        schema = row.connection.schema
        self.typed = typed
        self.confirmError = confirmError
        self.error = error
    }
}

/// The 404 of a connector Fivetran no longer has.
struct ConnectorGonePage: Sendable {
    let id: String
    let message: String?
}
