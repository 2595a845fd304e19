//! Bookmarks on disk and the undo history, through the engine API.

use hitogata::app::History;
use hitogata::bookmarks::{BookmarkError, BookmarkFile, BookmarkStore};
use hitogata::latent::Latent;

#[test]
fn bookmarks_persist_every_change_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.ron");
    let mut store = BookmarkStore::open(&path).store;
    let a = store
        .add(
            "a".into(),
            Latent::from_seed(1, 40),
            Some("ckpt".into()),
            None,
        )
        .unwrap();
    let b = store
        .add("b".into(), Latent::from_seed(2, 40), None, Some(a))
        .unwrap();
    store.edit(a, "alice".into(), "smiles".into()).unwrap();
    let (pos, removed) = store.remove(b).unwrap().unwrap();
    assert_eq!(BookmarkStore::open(&path).store.all().len(), 1);
    store.restore(pos, removed).unwrap();
    let reopened = BookmarkStore::open(&path);
    assert!(reopened.recovered.is_none());
    let all = reopened.store.all();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (all[0].name.as_str(), all[0].note.as_str()),
        ("alice", "smiles")
    );
    assert_eq!(all[1].parent, Some(a));
    assert_eq!(all[1].z, Latent::from_seed(2, 40));
}

#[test]
fn export_then_import_adds_copies_with_new_ids_and_bad_files_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = BookmarkStore::open(&dir.path().join("source.ron")).store;
    let a = source
        .add("a".into(), Latent::from_seed(1, 40), None, None)
        .unwrap();
    source
        .add("child".into(), Latent::from_seed(2, 40), None, Some(a))
        .unwrap();
    let exported = dir.path().join("exported.ron");
    source.export(&exported).unwrap();
    assert_eq!(&BookmarkFile::read(&exported).unwrap(), source.contents());

    let target_path = dir.path().join("target.ron");
    let mut target = BookmarkStore::open(&target_path).store;
    let own = target
        .add("own".into(), Latent::from_seed(3, 40), None, None)
        .unwrap();
    assert_eq!(target.import(&exported).unwrap(), 2);
    let all = BookmarkStore::open(&target_path).store.all().to_vec();
    let names: Vec<&str> = all.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["own", "a", "child"]);
    let mut ids: Vec<u64> = all.iter().map(|b| b.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "imported bookmarks get fresh ids");
    assert_eq!(all[0].id, own);
    assert_eq!(all[2].parent, None, "parents refer to the other file's ids");
    assert_eq!(all[2].z, Latent::from_seed(2, 40));

    // Reading (on a UI's file thread) and merging are the same import in two halves.
    let read = BookmarkFile::read(&exported).unwrap();
    assert_eq!(target.merge(read).unwrap(), 2);
    assert_eq!(target.all().len(), 5);

    let broken = dir.path().join("broken.ron");
    std::fs::write(&broken, "(version: 1, bookmarks: [oops").unwrap();
    let before = std::fs::read(&target_path).unwrap();
    assert!(matches!(
        target.import(&broken),
        Err(BookmarkError::Malformed { .. })
    ));
    assert!(matches!(
        BookmarkFile::read(&dir.path().join("missing.ron")),
        Err(BookmarkError::Io { .. })
    ));
    assert_eq!(target.all().len(), 5);
    assert_eq!(std::fs::read(&target_path).unwrap(), before);
}

#[test]
fn background_writes_land_before_the_store_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.ron");
    {
        let mut store = BookmarkStore::open(&path).store.with_background_writes();
        for i in 0..20 {
            store
                .add(format!("p{i}"), Latent::from_seed(i, 8), None, None)
                .unwrap();
        }
        assert!(store.take_write_error().is_none());
    }
    assert_eq!(
        BookmarkStore::open(&path).store.all().len(),
        20,
        "the last write wins, in order"
    );
}

#[test]
fn a_broken_file_is_moved_aside_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.ron");
    std::fs::write(&path, "(version: 1, bookmarks: [ oops").unwrap();
    let report = BookmarkStore::open(&path);
    let (err, aside) = report.recovered.expect("reported");
    assert!(
        err.to_string().contains("not a valid bookmarks file"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&aside).unwrap(),
        "(version: 1, bookmarks: [ oops"
    );
    let mut store = report.store;
    store
        .add("new".into(), Latent::zeros(4), None, None)
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(&aside).unwrap(),
        "(version: 1, bookmarks: [ oops"
    );
    assert_eq!(BookmarkStore::open(&path).store.all().len(), 1);
}

#[test]
fn history_undo_redo_restore_exact_vectors() {
    let (z0, z1, z2) = (
        Latent::from_seed(0, 4),
        Latent::from_seed(1, 4),
        Latent::from_seed(2, 4),
    );
    let mut h = History::default();
    h.record(z0.clone());
    h.record(z1.clone());
    assert_eq!(h.undo(&z2), Some(z1.clone()));
    assert_eq!(h.undo(&z1), Some(z0.clone()));
    assert_eq!(h.undo(&z0), None);
    assert_eq!(h.redo(&z0), Some(z1.clone()));
    assert_eq!(h.redo(&z1), Some(z2.clone()));
    h.undo(&z2);
    h.record(z0.clone()); // a new edit drops the redo branch
    assert!(!h.can_redo());
}

#[test]
fn tags_are_parsed_kept_and_listed() {
    use hitogata::bookmarks::parse_tags;
    assert_eq!(
        parse_tags(" smile, red hair ,,smile, "),
        ["smile", "red hair"],
        "trimmed, empty ones and repeats dropped"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.ron");
    let mut store = BookmarkStore::open(&path).store;
    let a = store
        .add("a".into(), Latent::from_seed(1, 8), None, None)
        .unwrap();
    let b = store
        .add("b".into(), Latent::from_seed(2, 8), None, None)
        .unwrap();
    store.set_tags(a, parse_tags("smile, hat")).unwrap();
    store.set_tags(b, parse_tags("smile")).unwrap();
    assert_eq!(store.tags(), ["hat", "smile"]);
    let again = BookmarkStore::open(&path).store;
    assert_eq!(again.get(a).unwrap().tags, ["smile", "hat"]);
    // Files written before tags existed read as untagged.
    let mut text = std::fs::read_to_string(&path).unwrap();
    while let Some(start) = text.find("tags: [") {
        let end = start + text[start..].find("],").unwrap() + 2;
        text.replace_range(start..end, "");
    }
    assert!(!text.contains("tags"), "{text}");
    std::fs::write(&path, text).unwrap();
    let old = BookmarkStore::open(&path);
    assert!(old.recovered.is_none());
    assert!(old.store.get(b).unwrap().tags.is_empty());
}

/// The files beside `path` another program's version was kept as.
fn kept_aside(path: &std::path::Path) -> Vec<std::path::PathBuf> {
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    let mut found: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(&format!("{name}.external-"))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn a_file_changed_by_another_program_is_kept_aside_and_the_save_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bookmarks.ron");
    let mut store = BookmarkStore::open(&path).store;
    store
        .add("mine".into(), Latent::from_seed(1, 4), None, None)
        .unwrap();
    assert_eq!(store.take_write_error(), None);

    // Another program rewrites the file (here: renames the bookmark).
    let theirs = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"mine\"", "\"theirs\"");
    std::fs::write(&path, &theirs).unwrap();
    store
        .add("second".into(), Latent::from_seed(2, 4), None, None)
        .unwrap();
    let notice = store.take_write_error().expect("the save says so");
    assert!(notice.contains("changed by another program"), "{notice}");
    let aside = kept_aside(&path);
    assert_eq!(aside.len(), 1);
    assert!(notice.contains(&aside[0].display().to_string()), "{notice}");
    assert_eq!(
        std::fs::read_to_string(&aside[0]).unwrap(),
        theirs,
        "kept as they wrote it"
    );
    let ours = BookmarkFile::read(&path).unwrap();
    let names: Vec<&str> = ours.bookmarks.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["mine", "second"]);

    // Our own saves after that are quiet.
    store
        .add("third".into(), Latent::from_seed(3, 4), None, None)
        .unwrap();
    assert_eq!(store.take_write_error(), None);

    // Deleted by another program: written again, and said.
    std::fs::remove_file(&path).unwrap();
    store
        .add("fourth".into(), Latent::from_seed(4, 4), None, None)
        .unwrap();
    let notice = store.take_write_error().expect("the save says so");
    assert!(notice.contains("deleted by another program"), "{notice}");
    assert_eq!(BookmarkFile::read(&path).unwrap().bookmarks.len(), 4);
    assert_eq!(kept_aside(&path).len(), 1);
}

#[test]
fn the_background_writer_keeps_another_programs_version_aside_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bookmarks.ron");
    std::fs::write(&path, "(version: 1, next_id: 0, bookmarks: [])").unwrap();
    let mut store = BookmarkStore::open(&path).store.with_background_writes();
    std::fs::write(&path, "(version: 1, next_id: 5, bookmarks: [])").unwrap();
    store
        .add("mine".into(), Latent::from_seed(1, 4), None, None)
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let notice = loop {
        if let Some(n) = store.take_write_error() {
            break n;
        }
        assert!(std::time::Instant::now() < deadline, "no notice");
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert!(notice.contains("changed by another program"), "{notice}");
    drop(store);
    let aside = kept_aside(&path);
    assert_eq!(
        std::fs::read_to_string(&aside[0]).unwrap(),
        "(version: 1, next_id: 5, bookmarks: [])"
    );
    assert_eq!(BookmarkFile::read(&path).unwrap().bookmarks[0].name, "mine");
}
