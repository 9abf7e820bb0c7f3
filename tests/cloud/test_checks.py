"""check_params on MediaMetaData words (Title, Description, Tags): accepted in image-text jobs, typed,
and a warning naming the field where nothing reads them."""

from sheet2video.cloud.checks import Issue, check_params

OUTPUT = {"MediaURL": "out_{index}.mp4"}


def job(inputs, metadata):
    return {"InputConfig": inputs, "OutputConfig": OUTPUT,
            "EditingConfig": {"MediaConfig": {"MediaMetaDataArray": metadata}}}


def test_image_text_metadata_words_are_accepted():
    inputs = {"MediaArray": ["a.jpg", "b.jpg"], "SpeechTextArray": ["Red shoes."]}
    metadata = [{"Media": "a.jpg", "Title": "Red shoe", "Description": "red, shoes"},
                {"Media": "b.jpg", "Tags": ["coffee", "cup"]}, {"Media": "b.jpg", "Tags": "latte"}]
    assert check_params(job(inputs, metadata)) == []


def test_wrong_types_are_errors():
    inputs = {"MediaArray": ["a.jpg"]}
    issues = check_params(job(inputs, [{"Media": "a.jpg", "Tags": ["ok", 3], "Description": ["x"]}]))
    assert issues == [
        Issue("EditingConfig.MediaConfig.MediaMetaDataArray[0].Description", 'must be a string, got ["x"]'),
        Issue("EditingConfig.MediaConfig.MediaMetaDataArray[0].Tags", 'must be a string or a list of strings, got ["ok", 3]'),
    ]


def test_words_a_job_cannot_use_are_a_warning_naming_the_field():
    groups = {"MediaGroupArray": [{"GroupName": "A", "MediaArray": ["a.jpg", "b.jpg"]}], "SpeechTextArray": ["Hi."]}
    issues = check_params(job(groups, [{"Media": "a.jpg", "Tags": "x"}, {"Media": "b.jpg", "Description": "y"}]))
    assert issues == [Issue("EditingConfig.MediaConfig.MediaMetaDataArray[0].Tags",
                            "is not used: only image-text jobs (InputConfig.MediaArray, no MediaGroupArray) match media "
                            "to sentences by words (sent as is)", "warning")]  # once per job
    issues = check_params(job({"MediaArray": ["a.jpg"]}, [{"Media": "typo.jpg", "Title": "x"}]))
    assert issues == [Issue("EditingConfig.MediaConfig.MediaMetaDataArray[0].Media",
                            "names no media of InputConfig.MediaArray: its words are not used", "warning")]
    ranges = [{"Media": "a.jpg", "GroupName": "A", "TimeRangeList": [{"In": 0, "Out": 1}]}]
    assert check_params(job(groups, ranges)) == []  # in/out points alone say nothing about words
