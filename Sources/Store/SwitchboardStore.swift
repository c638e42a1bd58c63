/// Every concern of the store at once: what a backend implements (SQLite today,
/// `SQLiteStore`; PostgreSQL later, beside it) and what the contract suite checks. Consumers
/// take only the protocols they use, so a backend's reach is visible in their signatures:
/// the capture engine a `DocumentStore`, the job runner a `JobQueue` with the captures it
/// reads and the documents its engine writes, the app's routes what their pages touch.
public typealias SwitchboardStore = DocumentStore & JobQueue & CaptureStore & APITokenStore & ConnectorNameStore & AuditStore
