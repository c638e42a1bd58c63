import Foundation
import Model

/// A capture as scripts see it (`/api/captures…`). Timestamps RFC 3339 UTC; absent values are
/// written as `null`, so every key is always there. The token is never in it, only its last
/// four characters.
struct CaptureJSON: Encodable {
    let id: Int64
    let name: String
    let resources: [String]
    let collections: [String]
    let start_date: String?
    /// nil: manual.
    let every_minutes: Int?
    let paused: Bool
    /// "every 5 minutes", "manual", "every hour (paused)".
    let schedule: String
    let next_run_at: String?
    let last_job: JobJSON?
    let token_last4: String
    let created_at: String
    let created_by: String?
    let url: String

    /// `lastJob`: the capture's newest job, if it has one.
    init(_ capture: CaptureRecord, lastJob: JobRecord?, now: Date = Date()) {
        id = capture.id
        name = capture.name
        resources = capture.resources
        collections = capture.collections
        start_date = Format.rfc3339(capture.startDate)
        every_minutes = capture.schedule.everyMinutes
        paused = capture.schedule.paused
        schedule = capture.schedule.description
        next_run_at = Format.rfc3339(capture.nextRunAt)
        last_job = lastJob.map { JobJSON($0, captureName: capture.name, now: now) }
        token_last4 = capture.tokenHint
        created_at = Format.rfc3339(capture.createdAt) ?? ""
        created_by = capture.createdBy
        url = "/captures/\(capture.id)"
    }

    enum CodingKeys: String, CodingKey {
        case id, name, resources, collections, start_date, every_minutes, paused, schedule, next_run_at, last_job,
            token_last4, created_at, created_by, url
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(resources, forKey: .resources)
        try c.encode(collections, forKey: .collections)
        try c.encode(start_date as String?, forKey: .start_date)
        try c.encode(every_minutes as Int?, forKey: .every_minutes)
        try c.encode(paused, forKey: .paused)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(next_run_at as String?, forKey: .next_run_at)
        try c.encode(last_job as JobJSON?, forKey: .last_job)
        try c.encode(token_last4, forKey: .token_last4)
        try c.encode(created_at, forKey: .created_at)
        try c.encode(created_by as String?, forKey: .created_by)
        try c.encode(url, forKey: .url)
    }
}
