import Foundation

/// A job as every layer sees it: the store rebuilds it from a row, the runner resumes from it,
/// the pages and the API render it. Kept here, not in the store, so those readers share one
/// value without depending on how or where it is kept.
public struct JobRecord: Sendable, Equatable {
    public var id: Int64
    public var captureID: Int64
    public var life: JobLife
    /// `REMOTE_USER` of whoever started it (nginx `auth_basic`), or the API token's name.
    public var requestedBy: String?
    public var bindings: [JobBindingProgress]
    public var requests: Int { bindings.reduce(0) { $0 + $1.requests } }

    public init(id: Int64, captureID: Int64, life: JobLife, requestedBy: String?, bindings: [JobBindingProgress]) {
        self.id = id
        self.captureID = captureID
        self.life = life
        self.requestedBy = requestedBy
        self.bindings = bindings
    }
}

/// One binding of a job, as the job page and `GET /api/jobs/{id}` show it. It outlives the run
/// that counted it (saved with each heartbeat, added to by the next attempt after a crash), so
/// it is plain data, `Codable`, unlike the engine's live `BindingProgress`.
public struct JobBindingProgress: Sendable, Equatable, Codable {
    /// The collection written (`acme/channels`).
    public var name: String
    public var resource: String
    public var pages: Int
    public var documents: Int
    public var deleted: Int
    public var requests: Int
    public var done: Bool
    /// waiting, running, done, cancelled or failed.
    public var state: String
    public var cursor: String?
    /// 0…1 when it can be told (a cursor time between the start date and now), else nil.
    public var fraction: Double?
    public var error: String?

    public init(
        name: String, resource: String, pages: Int = 0, documents: Int = 0, deleted: Int = 0, requests: Int = 0,
        done: Bool = false, state: String = "waiting", cursor: String? = nil, fraction: Double? = nil, error: String? = nil
    ) {
        self.name = name
        self.resource = resource
        self.pages = pages
        self.documents = documents
        self.deleted = deleted
        self.requests = requests
        self.done = done
        self.state = state
        self.cursor = cursor
        self.fraction = fraction
        self.error = error
    }
}
