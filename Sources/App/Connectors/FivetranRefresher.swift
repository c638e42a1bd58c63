import Logging
import ServiceLifecycle

/// Keeps the catalog and the connection list fresh in the background, each on its TTL, so
/// that page views read a current value and never wait on Fivetran. The first fetch of each
/// starts at once, so the first page after start-up usually finds it done. A failed refresh
/// is retried after a few seconds; pages meanwhile show the older value and say so.
struct FivetranRefresher: Service {
    let directory: ConnectorDirectory
    let logger: Logger

    func run() async throws {
        guard directory.settings.missing == nil else {
            // Nothing to refresh: the pages say Fivetran is not configured.
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await keepFresh(directory.catalog, named: "catalog") }
                group.addTask { await keepFresh(directory.connections, named: "connections") }
            }
        }
    }

    /// Refreshes `value` whenever it falls due, until cancelled. A TTL of 0 means every read
    /// fetches for itself, so there is nothing to keep fresh.
    private func keepFresh<Value>(_ value: Refreshed<Value>, named name: String) async {
        guard value.ttl > .zero else { return }
        while !Task.isCancelled {
            let due = value.due
            if ContinuousClock.now >= due {
                do {
                    let snapshot = try await value.refresh()
                    if let error = snapshot.refreshError { throw error }
                } catch {
                    logger.warning("could not refresh the Fivetran \(name): \(describe(error))")
                }
                continue
            }
            // Wakes at the due time; a refresh made meanwhile (after a create) moves it later.
            do { try await Task.sleep(until: due, clock: .continuous) } catch { return }
        }
    }
}
