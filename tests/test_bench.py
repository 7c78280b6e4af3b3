"""The benchmark's generated inputs are what its report says they are."""

from compute_abuse import bench
from compute_abuse.inputs import FilteredReader, RecordReader
from compute_abuse.replay import Replay


def test_s3_layout_holds_the_stream_in_delivery_order_with_one_candidate_in_a_hundred(tmp_path):
    size = bench.generate_s3_layout(tmp_path, 1_250, per_object=500)
    objects = sorted(tmp_path.rglob("*.json.gz"))
    assert len(objects) == 3 and size == sum(path.stat().st_size for path in objects)
    assert all("_CloudTrail_us-east-1_20240805T00" in path.name for path in objects)
    records = list(RecordReader([str(tmp_path)]))
    assert [r["eventID"] for r in records] == [f"bench-{i:012d}" for i in range(1_250)]
    assert bench.bare_parse_objects(tmp_path) == 1_250
    reader = FilteredReader([str(tmp_path)], keep=Replay().candidate_pairs(), jobs=2)
    kept = [r["eventID"] for r in reader]
    assert kept == [f"bench-{i:012d}" for i in range(0, 1_250, bench.LAUNCH_SHARE)]
    assert reader.records_read == 1_250
