"""The embedded default's configuration."""

from concurrent.futures import ProcessPoolExecutor

from infra.config import generated_secret


def test_processes_making_the_data_dirs_secret_at_once_all_get_the_same_one(tmp_path):
    with ProcessPoolExecutor(8) as pool:
        made = list(pool.map(generated_secret, [tmp_path] * 8))
    assert len(set(made)) == 1 and made[0]
    assert [path.name for path in tmp_path.iterdir()] == ["secret.key"]
