import Foundation
import Jobs
import Logging
import Store

/// The job runner on its own (`switchboard jobs`), for deployments that keep HTTP and capture
/// work apart (`serve --no-jobs` then): same database, same secret key, same runner.
public enum JobsWorker {
    public static func makeRunner(configuration: Configuration, logger: Logger) throws -> JobRunner {
        let secret = try SecretKey.loadOrCreate(at: configuration.secretKeyFile)
        let store = try configuration.openStore()
        return JobRunner(
            store: store, box: SecretBox(secret: secret),
            options: configuration.jobRunnerOptions,
            logger: logger)
    }
}
