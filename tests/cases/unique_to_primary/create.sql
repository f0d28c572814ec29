CREATE TABLE t (code int NOT NULL, v int NULL, UNIQUE KEY uc (code)) DEFAULT CHARSET=utf8mb4;
INSERT INTO t SELECT seq * 3, seq FROM seq_1_to_800;
