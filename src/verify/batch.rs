//! The one concurrent helper of batches (bulk mirror verification, online
//! verification, fetch): `workers` threads take items in turn; results are
//! handed to the caller in input order as soon as every earlier one is
//! done, so reports come out in order and memory stays bounded by the
//! caller's chunk.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Run `f` over `items` on up to `workers` threads; call `emit` with each
/// result, in the order of `items`, on the calling thread.
pub(crate) fn for_each_ordered<T, R, F, E>(items: &[T], workers: usize, f: F, mut emit: E)
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
    E: FnMut(R),
{
    let workers = workers.clamp(1, items.len().max(1));
    if workers == 1 {
        for it in items {
            emit(f(it));
        }
        return;
    }
    // Items are taken in small blocks: one message (one wake-up of the
    // emitter) per block, not per item, where a batch has many items; one
    // item at a time where it has few (slow network work).
    let block = (items.len() / (workers * 16)).clamp(1, 64);
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Vec<R>)>();
    std::thread::scope(|s| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, f) = (&next, &f);
            s.spawn(move || loop {
                let start = next.fetch_add(block, Ordering::Relaxed);
                if start >= items.len() {
                    break;
                }
                let end = (start + block).min(items.len());
                let results: Vec<R> = items[start..end].iter().map(f).collect();
                if tx.send((start, results)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut want = 0;
        for (start, rs) in rx {
            pending.insert(start, rs);
            while let Some(rs) = pending.remove(&want) {
                want += rs.len();
                rs.into_iter().for_each(&mut emit);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_input_order() {
        let items: Vec<u64> = (0..200).collect();
        for workers in [1, 2, 8] {
            let mut out = Vec::new();
            for_each_ordered(
                &items,
                workers,
                |&i| {
                    // Uneven work so that completions are out of order.
                    std::thread::sleep(std::time::Duration::from_micros((200 - i) % 7 * 50));
                    i * 2
                },
                |r| out.push(r),
            );
            assert_eq!(
                out,
                items.iter().map(|i| i * 2).collect::<Vec<_>>(),
                "workers {workers}"
            );
        }
        let mut none = Vec::<u64>::new();
        for_each_ordered(&[] as &[u64], 4, |&i| i, |r| none.push(r));
        assert!(none.is_empty());
    }
}
