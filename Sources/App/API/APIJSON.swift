// The API's own answers; a job alone is `JobJSON` (Jobs/), shared with the job page. Keys are
// snake_case and absent values are written as `null`, as scripts expect.

extension APIRoutes {
    /// `GET /api/jobs`: a page of jobs, and the next page's URL while there is one.
    struct JobList: Encodable {
        let jobs: [JobJSON]
        let page: Int
        let per_page: Int
        let next: String?

        enum CodingKeys: String, CodingKey { case jobs, page, per_page, next }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(jobs, forKey: .jobs)
            try c.encode(page, forKey: .page)
            try c.encode(per_page, forKey: .per_page)
            try c.encode(next as String?, forKey: .next)
        }
    }

    /// `POST /api/captures/{id}/jobs` while a job of the capture runs (409): the error and that job.
    struct Conflict: Encodable {
        struct Detail: Encodable {
            let status: String
            let title: String
            let message: String
            let request_id: String
        }
        let error: Detail
        let job: JobJSON
    }
}

extension APIRoutes {
    /// `{"captures": [...]}`
    struct CaptureList: Encodable {
        let captures: [CaptureJSON]
    }

    /// An error as every JSON route answers it, with `fields` (each bad field's problem, by its
    /// JSON name) when the body was refused field by field.
    struct FieldErrors: Encodable {
        struct Detail: Encodable {
            let status: String
            let title: String
            let message: String
            let request_id: String
            let fields: [String: String]
        }
        let error: Detail

        init(status: Int, title: String, message: String, requestID: String, fields: [String: String]) {
            error = Detail(status: "\(status)", title: title, message: message, request_id: requestID, fields: fields)
        }
    }
}
