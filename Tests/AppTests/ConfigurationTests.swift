import Foundation
import SwitchboardTesting
import Testing

@testable import App

@Suite("Configuration")
struct ConfigurationTests {
    @Test("the environment wins over the env file, which fills in the rest; numbers are clamped")
    func environmentThenFile() async throws {
        let folder = try makeTemporaryFolder("switchboard-config")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("switchboard.env")
        try """
        FIVETRAN_GROUP_ID=from_the_file
        SWITCHBOARD_JOB_CONCURRENCY=7
        SWITCHBOARD_EXPORTS=99999
        FIVETRAN_API_SECRET=file-secret

        """.write(to: file, atomically: true, encoding: .utf8)
        let configuration = try await Configuration.load(environment: [
            "SWITCHBOARD_ENV_FILE": file.path, "SWITCHBOARD_JOB_CONCURRENCY": "3",
            "SWITCHBOARD_JOB_LEASE_SECONDS": "not a number",
        ])
        #expect(configuration.jobConcurrency == 3)
        #expect(configuration.fivetran.groupID == "from_the_file")
        #expect(configuration.fivetran.apiSecret == "file-secret")
        #expect(configuration.concurrentExports == 64)
        #expect(configuration.jobLeaseSeconds == 10)
    }

    @Test("SWITCHBOARD_JOBS_KEPT: 100 unless set, clamped to 1–100,000")
    func jobsKept() {
        #expect(Configuration(environment: [:]).jobsKept == 100)
        #expect(Configuration(environment: ["SWITCHBOARD_JOBS_KEPT": "250"]).jobsKept == 250)
        #expect(Configuration(environment: ["SWITCHBOARD_JOBS_KEPT": "0"]).jobsKept == 1)
        #expect(Configuration(environment: ["SWITCHBOARD_JOBS_KEPT": "9999999"]).jobsKept == 100_000)
        #expect(Configuration(environment: ["SWITCHBOARD_JOBS_KEPT": "lots"]).jobsKept == 100)
    }

    @Test("a FRONT_BASE_URL or SWITCHBOARD_PUBLIC_URL that is not an http(s) URL is refused, by name")
    func badURLs() {
        #expect(throws: ConfigurationError.self) { try Configuration(environment: ["FRONT_BASE_URL": "ftp://x"]).check() }
        #expect(throws: ConfigurationError.self) { try Configuration(environment: ["SWITCHBOARD_PUBLIC_URL": "nope"]).check() }
        #expect(throws: Never.self) { try Configuration(environment: ["FRONT_BASE_URL": "http://127.0.0.1:9"]).check() }
    }
}
