extension SandboxResponse {
    /// Fivetran's error body, `{"code","message"}`: its clients branch on the code.
    static func fivetranError(_ status: Int, _ code: String, _ message: String) -> Self {
        json(status, encoding: ["code": code, "message": message])
    }
}
