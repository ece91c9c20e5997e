from policies.text.tokenizer import get_tokenizer
from vocabulary import taxonomy


def test_taxonomy_files_load_with_required_entries() -> None:
    names = {t.name for t in taxonomy.topics()}
    required = {"就业创业", "住房保障", "医疗卫生", "教育", "社会保障", "养老服务", "惠企政策", "税费优惠",
                "科技创新", "农业农村", "文化旅游", "生态环保", "法治司法", "财政预决算", "社会组织"}  # fmt: skip
    assert required <= names
    assert len(taxonomy.topics()) <= 25
    assert all(t.code.isascii() and len(t.code) <= 16 for t in taxonomy.topics())
    assert [i.code for i in taxonomy.industries()] == [chr(c) for c in range(ord("A"), ord("T") + 1)]
    assert {r.name for r in taxonomy.regions()} == {
        "泾源县", "香水镇", "泾河源镇", "六盘山镇", "新民乡", "兴盛乡", "黄花乡", "大湾乡"
    }  # fmt: skip
    audiences = {e.name: e.audience for e in taxonomy.eligibility_tags()}
    assert audiences["专精特新"] == "enterprise"
    assert audiences["规模以上企业"] == "enterprise"
    assert audiences["困难家庭学生"] == "resident"
    assert audiences["退役军人"] == "resident"


def test_resolve_accepts_code_name_and_synonym() -> None:
    assert taxonomy.resolve_topic("employment").name == "就业创业"
    assert taxonomy.resolve_topic("就业创业").code == "employment"
    assert taxonomy.resolve_topic("一次性创业补贴").code == "employment"
    assert taxonomy.resolve_topic("临时救助").code == "social_assist"
    assert taxonomy.resolve_topic("税收优惠").code == "tax"
    assert taxonomy.topic_by_code("housing").name == "住房保障"
    assert taxonomy.topic_by_name("教育").code == "education"
    assert taxonomy.resolve_eligibility("zjtx").name == "专精特新"
    assert taxonomy.resolve_eligibility("小巨人").code == "zjtx"
    assert taxonomy.resolve_industry("a").code == "A"
    assert taxonomy.resolve_industry("制造业").code == "C"
    assert taxonomy.resolve_region("六盘山镇").code == "liupanshan"
    assert taxonomy.resolve_region("jingyuan").name == "泾源县"


def test_unknown_resolves_to_none() -> None:
    for resolve in (taxonomy.resolve_topic, taxonomy.resolve_eligibility, taxonomy.resolve_industry,
                    taxonomy.resolve_region, taxonomy.topic_by_code, taxonomy.topic_by_name):  # fmt: skip
        assert resolve("不存在的东西") is None
        assert resolve("") is None


def test_policy_terms_stay_whole_words() -> None:
    tokenizer = get_tokenizer()
    text = (
        "专精特新企业享受研发费用加计扣除，高新技术企业申请创业担保贷款，公共租赁住房配租，"
        "稳岗返还和以工代赈，一老一小服务，双随机一公开检查，泾河源镇、六盘山镇、大湾乡的农户领取耕地地力保护补贴"
    )
    words = tokenizer.words(text)
    terms = ["专精特新", "研发费用加计扣除", "高新技术企业", "创业担保贷款", "公共租赁住房", "稳岗返还",
             "以工代赈", "一老一小", "双随机一公开", "泾河源镇", "六盘山镇", "大湾乡", "耕地地力保护补贴"]  # fmt: skip
    for term in terms:
        assert term in words, term


def test_taxonomy_words_are_loaded_into_the_tokenizer() -> None:
    tokenizer = get_tokenizer()
    for topic in taxonomy.topics():
        for word in topic.synonyms:
            if len(word) >= 2 and not word.isascii() and "、" not in word:
                assert tokenizer.jieba.FREQ.get(word), word
    assert "最低生活保障" in tokenizer.words("申请最低生活保障需要什么材料")


def test_index_tokens_reach_four_character_terms_inside_compounds() -> None:
    tokens = get_tokenizer().index_tokens("参加城乡居民基本医疗保险")
    assert "医疗保险" in tokens
    assert "城乡居民基本医疗保险" in tokens
