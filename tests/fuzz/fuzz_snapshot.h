/*
 * fuzz_snapshot.h - the small snapshot three fuzz targets start from
 * (fuzz_conn, fuzz_overlay, fuzz_snap_struct): a list and permits that
 * touch every ID type, status, list, restriction subset (the joint
 * measures too: a related person naming codes it cannot carry, a narrowed
 * SX listing, a permit on joint codes) and a legacy 15-digit number,
 * built once with sx_build() into a scratch directory.
 * The including file defines CHECK(cond, ...) first.
 */
#ifndef SX_FUZZ_SNAPSHOT_H
#define SX_FUZZ_SNAPSHOT_H


static const char list_csv[] =
	"case_no,court,list,role,id_type,id_no,name,status,listed_on,expires_on,restrictions,region\n"
	"（2023）闽05执1001号,泉州市中级人民法院,SX,debtor,RIC,350304197806263293,张某某,active,2025-01-10,,,350500\n"
	"（2025）闽0203执1002号,厦门市思明区人民法院,SX,debtor,RIC,350203620915548,李某,active,2025-01-10,,,350203\n"
	"(2020)闽0302执1003号,莆田市城厢区人民法院,XG,debtor,RIC,310104199609222493,王某,active,2025-01-10,,AIR;RAIL;HOTEL,350302\n"
	"（2019）闽0203执1004号,厦门市思明区人民法院,SX,debtor,RIC,350602196503281979,赵某,suspended,2025-01-10,,,350203\n"
	"（2020）闽0602执1005号,漳州市芗城区人民法院,SX,debtor,RIC,350304199509279511,钱某,revoked,2025-01-10,,,350602\n"
	"（2024）闽0302执1006号,莆田市城厢区人民法院,SX,debtor,RIC,31010419851004862X,孙某,shielded,2025-01-10,,,350302\n"
	"（2025）闽0602执1007号,漳州市芗城区人民法院,SX,debtor,RIC,350304200011257257,周某,active,2023-03-01,2025-02-28,,350602\n"
	"（2023）闽0302执1008号,莆田市城厢区人民法院,SX,debtor,USCC,91350100658106848R,福州某某建设工程有限公司,active,2025-01-10,,,350302\n"
	"（2023）闽0302执1008号,莆田市城厢区人民法院,SX,legal_rep,RIC,110101199405036676,吴某,active,2025-01-10,,,350302\n"
	"（2022）闽0102执1020号,福州市鼓楼区人民法院,XG,debtor,ORG,65810684-8,福州某某建设工程有限公司,active,2025-01-10,,HOTEL;SHIP,350102\n"
	"（2024）闽0203执1009号,厦门市思明区人民法院,SX,debtor,PASSPORT,E65994900,冯某,active,2025-01-10,,,350203\n"
	"（2024）闽0203执1099号,厦门市思明区人民法院,XG,debtor,RIC,350304197806263293,张某某,active,2025-03-01,,RAIL,350203\n"
	"（2024）闽0203执1098号,厦门市思明区人民法院,SX,responsible,RIC,350304197806263294,张某某,suspended,2025-01-10,,,350203\n"
	"（2024）闽0203执1097号,厦门市思明区人民法院,SX,debtor,HKMO,H12345678,某甲,active,2025-01-10,,,350203\n"
	"（2024）闽0203执1096号,厦门市思明区人民法院,SX,debtor,TW,12345678,某乙,active,2025-01-10,,,350203\n"
	"（2024）闽0203执1095号,厦门市思明区人民法院,SX,debtor,FRP,USA110078091205,某丙,active,2025-01-10,,VENUE,350203\n"
	"（2023）闽0302执1008号,莆田市城厢区人民法院,SX,controller,RIC,350503195710050539,郑某,active,2025-01-10,,PROCUREMENT;ASSET;AIR,350302\n"
	"（2024）闽0203执1094号,厦门市思明区人民法院,SX,debtor,RIC,350602195408276982,黄某,active,2025-01-10,,CREDIT;FINANCE;bidding,350203\n"
	"（2024）闽0203执1093号,厦门市思明区人民法院,SX,debtor,USCC,91350200123456788X,某公司,suspended,2025-01-10,,,350203\n";

static const char permits_csv[] =
	"id_type,id_no,case_no,codes,valid_from,valid_to,permit_ref\n"
	"RIC,350304197806263293,(2023)闽05执1001号,AIR,2026-01-05,2026-01-20,P-1\n"
	"USCC,91350100658106848R,（2023）闽0302执1008号,HOTEL;RAIL,2025-06-01,2026-06-01,P-2\n"
	"ORG,658106848,（2021）闽0102执9999号,AIR,2025-01-01,2027-01-01,P-3\n"
	"RIC,350602195408276982,（2024）闽0203执1094号,CREDIT;PROCUREMENT,2026-01-01,2026-02-01,P-4\n";

static char snap_dir[64], snap_path[96];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static void remove_snapshot_dir(void)
{
	if (snap_dir[0])
		nftw(snap_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	snap_dir[0] = 0;
}

/* Build the snapshot into snap_path, in a scratch directory. */
static void build_snapshot(void)
{
	char list[96], permits[96], rejects[96], why[1024] = "";
	snprintf(snap_dir, sizeof snap_dir, "%s", "/tmp/sxgate-fuzz-XXXXXX");
	CHECK(mkdtemp(snap_dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(list, sizeof list, "%s/list.csv", snap_dir);
	snprintf(permits, sizeof permits, "%s/permits.csv", snap_dir);
	snprintf(rejects, sizeof rejects, "%s/rejects.csv", snap_dir);
	snprintf(snap_path, sizeof snap_path, "%s/small.snap", snap_dir);
	FILE *f = fopen(list, "w");
	CHECK(f && fputs(list_csv, f) >= 0 && fclose(f) == 0, "write %s", list);
	f = fopen(permits, "w");
	CHECK(f && fputs(permits_csv, f) >= 0 && fclose(f) == 0, "write %s", permits);
	sx_build_opts o = { .input = list, .permits = permits, .output = snap_path,
	                    .rejects = rejects, .as_of = SX_AS_OF_NONE,
	                    .max_rejects = 1000, .threads = 1 };
	sx_build_report r;
	int rc = sx_build(&o, &r, why, sizeof why);
	CHECK(rc == 0 && r.rejected == 0 && r.permits_loaded == 4,
	      "build of the fuzz snapshot: rc %d, %llu rejected: %s", rc,
	      (unsigned long long)r.rejected, why);
}

#endif
