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
    public var bindings: [BindingProgress]
    public var requests: Int { bindings.reduce(0) { $0 + $1.requests } }

    public init(id: Int64, captureID: Int64, life: JobLife, requestedBy: String?, bindings: [BindingProgress]) {
        self.id = id
        self.captureID = captureID
        self.life = life
        self.requestedBy = requestedBy
        self.bindings = bindings
    }
}
