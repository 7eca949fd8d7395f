<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="zh_CN">
<context>
    <name>App</name>
    <message>
        <source>正在生成演示数据…</source>
        <translation>Generating demo data…</translation>
    </message>
    <message>
        <source>设置文件 {0} 中有以下问题，已改用默认值：</source>
        <translation>The settings file {0} has these problems; the defaults are used instead:</translation>
    </message>
    <message>
        <source>设置</source>
        <translation>Settings</translation>
    </message>
    <message>
        <source>无法打开数据库：</source>
        <translation>Cannot open the database:</translation>
    </message>
    <message>
        <source>自动备份失败：{0}</source>
        <translation>Automatic backup failed: {0}</translation>
    </message>
    <message>
        <source>已备份到 {0}</source>
        <translation>Backed up to {0}</translation>
    </message>
</context>
<context>
    <name>AppActions</name>
    <message>
        <source>导入(&amp;I)…</source>
        <translation>&amp;Import…</translation>
    </message>
    <message>
        <source>导出(&amp;E)…</source>
        <translation>&amp;Export…</translation>
    </message>
    <message>
        <source>首选项(&amp;P)…</source>
        <translation>&amp;Preferences…</translation>
    </message>
</context>
<context>
    <name>BackupScheduler</name>
    <message>
        <source>立即备份(&amp;B)</source>
        <translation>&amp;Back up now</translation>
    </message>
</context>
<context>
    <name>BatchPrediction</name>
    <message>
        <source>预测全部待审核病历(&amp;P)</source>
        <translation>&amp;Predict all records awaiting review</translation>
    </message>
    <message>
        <source>用当前模型预测所有尚无其预测的未处理或已预测病历</source>
        <translation>Predict, with the model in use, every new or predicted record that has no prediction of this model yet</translation>
    </message>
    <message>
        <source>停止预测</source>
        <translation>Stop predicting</translation>
    </message>
    <message>
        <source>预测 %v/%m</source>
        <translation>Predicting %v/%m</translation>
    </message>
    <message>
        <source>没有可用的模型，无法批量预测</source>
        <translation>No model is available; cannot predict the records</translation>
    </message>
    <message>
        <source>无法读取病历：{0}</source>
        <translation>Cannot read the records: {0}</translation>
    </message>
    <message>
        <source>所有待审核病历都已有当前模型的预测</source>
        <translation>Every record awaiting review already has a prediction of the model in use</translation>
    </message>
    <message>
        <source>批量预测失败：{0}</source>
        <translation>Predicting the records failed: {0}</translation>
    </message>
    <message>
        <source>已停止：预测并保存了 {0} 条病历</source>
        <translation>Stopped: {0} records predicted and saved</translation>
    </message>
    <message>
        <source>已预测并保存 {0} 条病历</source>
        <translation>{0} records predicted and saved</translation>
    </message>
    <message>
        <source>，跳过 {0} 条</source>
        <translation>, {0} skipped</translation>
    </message>
</context>
<context>
    <name>CorrectionController</name>
    <message>
        <source>撤销</source>
        <translation>Undo</translation>
    </message>
    <message>
        <source>重做</source>
        <translation>Redo</translation>
    </message>
    <message>
        <source>保存并审核(&amp;S)</source>
        <translation>&amp;Save and verify</translation>
    </message>
    <message>
        <source>保存标注和表单，记录与模型预测的差异，并将病历标为已审核</source>
        <translation>Save the annotation and form, record the differences from the model&apos;s prediction, and mark the record verified</translation>
    </message>
    <message>
        <source>先选中要标注的文字（鼠标或 Shift+方向键），再按类别键</source>
        <translation>First select the text to annotate (mouse or Shift+arrow keys), then press a category key</translation>
    </message>
    <message>
        <source>光标处没有可删除的标注</source>
        <translation>There is no annotation at the cursor to delete</translation>
    </message>
    <message>
        <source>无法修改：{0}</source>
        <translation>Cannot change: {0}</translation>
    </message>
    <message>
        <source>删除标注(&amp;X)</source>
        <translation>Delete annotation (&amp;X)</translation>
    </message>
    <message>
        <source>未能保存</source>
        <translation>Not saved</translation>
    </message>
    <message>
        <source>病历 {0} 未保存，数据库保持原样，修改仍在编辑中。

原因：{1}</source>
        <translation>Record {0} was not saved; the database is unchanged and your edits are still open.

Reason: {1}</translation>
    </message>
    <message>
        <source>未能保存 {0}：{1}</source>
        <translation>Could not save {0}: {1}</translation>
    </message>
</context>
<context>
    <name>DraftCommand</name>
    <message>
        <source>标注“{0}”为{1}</source>
        <translation>Mark “{0}” as {1}</translation>
    </message>
    <message>
        <source>“{0}”改为{1}</source>
        <translation>Change “{0}” to {1}</translation>
    </message>
    <message>
        <source>删除{0}</source>
        <translation>Delete {0}</translation>
    </message>
    <message>
        <source>{0}改为{1}</source>
        <translation>Set {0} to {1}</translation>
    </message>
    <message>
        <source>恢复未保存的修改</source>
        <translation>Restore unsaved edits</translation>
    </message>
</context>
<context>
    <name>DraftJournaller</name>
    <message>
        <source>无法写入恢复文件（{0}）；未保存的修改在程序崩溃时可能丢失</source>
        <translation>Cannot write the recovery file ({0}); unsaved edits could be lost if the program crashes</translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <source>导出病历</source>
        <translation>Export records</translation>
    </message>
    <message>
        <source>JSONL（每行一条病历，含标注和表单）</source>
        <translation>JSONL (one record a line, with annotation and form)</translation>
    </message>
    <message>
        <source>JSON（病历列表）</source>
        <translation>JSON (a list of records)</translation>
    </message>
    <message>
        <source>CSV（Excel 可打开）</source>
        <translation>CSV (opens in Excel)</translation>
    </message>
    <message>
        <source>BIO（每行“字 标签”，用于训练）</source>
        <translation>BIO (“character TAG” lines, for training)</translation>
    </message>
    <message>
        <source>全部病历（{0} 条）</source>
        <translation>All records ({0})</translation>
    </message>
    <message>
        <source>仅已审核的病历（{0} 条）</source>
        <translation>Verified records only ({0})</translation>
    </message>
    <message>
        <source>列表当前显示的病历（{0} 条）</source>
        <translation>The records the list shows now ({0})</translation>
    </message>
    <message>
        <source>浏览(&amp;B)…</source>
        <translation>&amp;Browse…</translation>
    </message>
    <message>
        <source>去除身份信息（姓名、身份证号、电话、地址）</source>
        <translation>Remove identifying details (names, ID numbers, phone numbers, addresses)</translation>
    </message>
    <message>
        <source>格式：</source>
        <translation>Format:</translation>
    </message>
    <message>
        <source>病历：</source>
        <translation>Records:</translation>
    </message>
    <message>
        <source>保存到：</source>
        <translation>Save to:</translation>
    </message>
    <message>
        <source>导出(&amp;E)</source>
        <translation>&amp;Export</translation>
    </message>
    <message>
        <source>停止导出</source>
        <translation>Stop export</translation>
    </message>
    <message>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
    <message>
        <source>{0} 是文件夹，请输入文件名。</source>
        <translation>{0} is a folder; please enter a file name.</translation>
    </message>
    <message>
        <source>正在导出…</source>
        <translation>Exporting…</translation>
    </message>
    <message>
        <source>正在停止…</source>
        <translation>Stopping…</translation>
    </message>
    <message>
        <source>替换文件</source>
        <translation>Replace file</translation>
    </message>
    <message>
        <source>{0} 已存在。要替换它吗？</source>
        <translation>{0} already exists. Replace it?</translation>
    </message>
    <message>
        <source>舌象照片复制到同一文件夹下的 {0}_images/。</source>
        <translation>Tongue photos are copied to {0}_images/ in the same folder.</translation>
    </message>
    <message>
        <source>BIO 文件只含文本和实体标注，不含表单和照片。</source>
        <translation>BIO files hold only the text and entity annotation, no form and no photos.</translation>
    </message>
    <message>
        <source>导出到</source>
        <translation>Export to</translation>
    </message>
    <message>
        <source>{0} 文件 (*.{1});;所有文件 (*)</source>
        <translation>{0} files (*.{1});;All files (*)</translation>
    </message>
    <message>
        <source>已导出 {0} 条病历到 {1}</source>
        <translation>Exported {0} records to {1}</translation>
    </message>
    <message>
        <source>导出已停止，没有写入文件。</source>
        <translation>Export stopped; no file was written.</translation>
    </message>
    <message>
        <source>导出失败，没有写入文件：{0}</source>
        <translation>Export failed; no file was written: {0}</translation>
    </message>
</context>
<context>
    <name>FormEditor</name>
    <message>
        <source>依据：{0}</source>
        <translation>Evidence: {0}</translation>
    </message>
    <message>
        <source>通用</source>
        <translation>General</translation>
    </message>
    <message>
        <source>{0}：</source>
        <translation>{0}:</translation>
    </message>
</context>
<context>
    <name>FormView</name>
    <message>
        <source>通用</source>
        <translation>General</translation>
    </message>
    <message>
        <source>{0}：</source>
        <translation>{0}:</translation>
    </message>
</context>
<context>
    <name>ImagePanel</name>
    <message>
        <source>放大</source>
        <translation>Zoom in</translation>
    </message>
    <message>
        <source>缩小</source>
        <translation>Zoom out</translation>
    </message>
    <message>
        <source>适应窗口</source>
        <translation>Fit to window</translation>
    </message>
    <message>
        <source>无舌象照片</source>
        <translation>No tongue photo</translation>
    </message>
    <message>
        <source>文件不存在</source>
        <translation>The file does not exist</translation>
    </message>
    <message>
        <source>无法读取舌象照片 {0}
{1}</source>
        <translation>Cannot read the tongue photo {0}
{1}</translation>
    </message>
    <message>
        <source>舌象识别：</source>
        <translation>Tongue recognition: </translation>
    </message>
</context>
<context>
    <name>ImportDialog</name>
    <message>
        <source>导入病历</source>
        <translation>Import records</translation>
    </message>
    <message>
        <source>JSONL、JSON、CSV、BIO 文件或 .txt 文件夹</source>
        <translation>A JSONL, JSON, CSV or BIO file, or a folder of .txt files</translation>
    </message>
    <message>
        <source>选择文件(&amp;F)…</source>
        <translation>Choose &amp;file…</translation>
    </message>
    <message>
        <source>选择文件夹(&amp;D)…</source>
        <translation>Choose fol&amp;der…</translation>
    </message>
    <message>
        <source>来源：</source>
        <translation>Source:</translation>
    </message>
    <message>
        <source>导入时去除身份信息（姓名、身份证号、电话、地址）</source>
        <translation>Remove identifying details while importing (names, ID numbers, phone numbers, addresses)</translation>
    </message>
    <message>
        <source>选择要导入的文件或文件夹。</source>
        <translation>Choose a file or folder to import.</translation>
    </message>
    <message>
        <source>位置</source>
        <translation>Where</translation>
    </message>
    <message>
        <source>记录或内容</source>
        <translation>Record or part</translation>
    </message>
    <message>
        <source>原因</source>
        <translation>Why</translation>
    </message>
    <message>
        <source>导入(&amp;I)</source>
        <translation>&amp;Import</translation>
    </message>
    <message>
        <source>停止导入</source>
        <translation>Stop import</translation>
    </message>
    <message>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
    <message>
        <source>正在导入 {0}…</source>
        <translation>Importing {0}…</translation>
    </message>
    <message>
        <source>正在停止…</source>
        <translation>Stopping after the current record…</translation>
    </message>
    <message>
        <source>选择要导入的文件</source>
        <translation>Choose the file to import</translation>
    </message>
    <message>
        <source>可导入的文件 (*.jsonl *.ndjson *.json *.csv *.bio *.txt);;所有文件 (*)</source>
        <translation>Importable files (*.jsonl *.ndjson *.json *.csv *.bio *.txt);;All files (*)</translation>
    </message>
    <message>
        <source>选择 .txt 病历所在的文件夹</source>
        <translation>Choose the folder with the .txt records</translation>
    </message>
    <message>
        <source>文件夹：每个 .txt 文件一条病历，同名图片为舌象照片</source>
        <translation>Folder: one record per .txt file; a picture with the same name is its tongue photo</translation>
    </message>
    <message>
        <source>JSONL：每行一条病历</source>
        <translation>JSONL: one record a line</translation>
    </message>
    <message>
        <source>JSON：病历列表</source>
        <translation>JSON: a list of records</translation>
    </message>
    <message>
        <source>CSV：需有 id 和 text 列</source>
        <translation>CSV: needs the columns id and text</translation>
    </message>
    <message>
        <source>BIO：每行“字 标签”，空行分隔病历</source>
        <translation>BIO: “character TAG” lines, a blank line between records</translation>
    </message>
    <message>
        <source>文本文件：一条病历</source>
        <translation>Text file: one record</translation>
    </message>
    <message>
        <source>找不到 {0}</source>
        <translation>{0} not found</translation>
    </message>
    <message>
        <source>格式：{0}</source>
        <translation>Format: {0}</translation>
    </message>
    <message>
        <source>已导入 {0} 条病历，跳过 {1} 条，{2} 个问题。</source>
        <translation>Imported {0} records, skipped {1}, {2} problems.</translation>
    </message>
    <message>
        <source>已停止：处理了 {0} / {1} 项，已导入的病历保留在数据库中。</source>
        <translation>Stopped after {0} of {1} items; the records already imported stay in the database.</translation>
    </message>
    <message>
        <source>导入已停止。</source>
        <translation>Import stopped.</translation>
    </message>
    <message>
        <source>无法导入：{0}</source>
        <translation>Cannot import: {0}</translation>
    </message>
</context>
<context>
    <name>InferenceWorker</name>
    <message>
        <source>没有可用的模型</source>
        <translation>No model available</translation>
    </message>
</context>
<context>
    <name>ItemKind</name>
    <message>
        <source>证候</source>
        <translation>Syndrome</translation>
    </message>
    <message>
        <source>症状</source>
        <translation>Symptom</translation>
    </message>
    <message>
        <source>体征</source>
        <translation>Sign</translation>
    </message>
    <message>
        <source>舌象</source>
        <translation>Tongue</translation>
    </message>
    <message>
        <source>脉象</source>
        <translation>Pulse</translation>
    </message>
    <message>
        <source>中药</source>
        <translation>Herb</translation>
    </message>
</context>
<context>
    <name>LegendWidget</name>
    <message>
        <source>{0}（{1}），快捷键 {2}</source>
        <translation>{0} ({1}), key {2}</translation>
    </message>
</context>
<context>
    <name>LineEditor</name>
    <message>
        <source>以“、”分隔</source>
        <translation>Separate with “、”</translation>
    </message>
    <message>
        <source>药名 剂量、药名 剂量</source>
        <translation>herb dose、herb dose</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>文件(&amp;F)</source>
        <translation>&amp;File</translation>
    </message>
    <message>
        <source>打开数据库(&amp;O)…</source>
        <translation>&amp;Open database…</translation>
    </message>
    <message>
        <source>退出(&amp;Q)</source>
        <translation>&amp;Quit</translation>
    </message>
    <message>
        <source>视图(&amp;V)</source>
        <translation>&amp;View</translation>
    </message>
    <message>
        <source>刷新列表(&amp;R)</source>
        <translation>&amp;Refresh list</translation>
    </message>
    <message>
        <source>关联规则与统计(&amp;A)…</source>
        <translation>&amp;Association rules and statistics…</translation>
    </message>
    <message>
        <source>搜索</source>
        <translation>Search</translation>
    </message>
    <message>
        <source>标注(&amp;E)</source>
        <translation>Annotat&amp;e</translation>
    </message>
    <message>
        <source>保存并转到下一条</source>
        <translation>Save and go to next</translation>
    </message>
    <message>
        <source>下一条病历(&amp;N)</source>
        <translation>&amp;Next record</translation>
    </message>
    <message>
        <source>上一条病历(&amp;P)</source>
        <translation>&amp;Previous record</translation>
    </message>
    <message>
        <source>转到病历列表</source>
        <translation>Go to record list</translation>
    </message>
    <message>
        <source>转到病历正文</source>
        <translation>Go to record text</translation>
    </message>
    <message>
        <source>转到结构化表单</source>
        <translation>Go to structured form</translation>
    </message>
    <message>
        <source>转到待审核队列</source>
        <translation>Go to the review queue</translation>
    </message>
    <message>
        <source>设置(&amp;S)</source>
        <translation>&amp;Settings</translation>
    </message>
    <message>
        <source>无法打开数据库</source>
        <translation>Cannot open the database</translation>
    </message>
    <message>
        <source>已恢复病历 {0} 上次未保存的修改（尚未保存，可撤销）</source>
        <translation>Restored the unsaved edits of record {0} (not saved yet; undo takes them back)</translation>
    </message>
    <message>
        <source>；该病历此后已在别处保存过</source>
        <translation>; the record has been saved elsewhere since</translation>
    </message>
    <message>
        <source>{0}[*] — 中医病历结构化</source>
        <translation>{0}[*] — TCM record structuring</translation>
    </message>
    <message>
        <source>无模型</source>
        <translation>No model</translation>
    </message>
    <message>
        <source>模型 {0}</source>
        <translation>Model {0}</translation>
    </message>
    <message>
        <source>共 {0} 条记录</source>
        <translation>{0} records in all</translation>
    </message>
    <message>
        <source>预测未能保存：{0}</source>
        <translation>The prediction could not be saved: {0}</translation>
    </message>
    <message>
        <source>模型预测：{0} 个实体，不确定度 {1:.3f}</source>
        <translation>Model prediction: {0} entities, uncertainty {1:.3f}</translation>
    </message>
    <message>
        <source>（未显示：保留了您的修改）</source>
        <translation> (not shown: your edits were kept)</translation>
    </message>
    <message>
        <source>模型预测失败：{0}</source>
        <translation>Model prediction failed: {0}</translation>
    </message>
    <message>
        <source>模型不可用</source>
        <translation>Model unavailable</translation>
    </message>
    <message>
        <source>模型无法加载：{0}</source>
        <translation>The model cannot be loaded: {0}</translation>
    </message>
    <message>
        <source>打开数据库</source>
        <translation>Open database</translation>
    </message>
    <message>
        <source>数据库 (*.sqlite *.sqlite3 *.db);;所有文件 (*)</source>
        <translation>Databases (*.sqlite *.sqlite3 *.db);;All files (*)</translation>
    </message>
    <message>
        <source>已保存并审核 {0}</source>
        <translation>Saved and verified {0}</translation>
    </message>
    <message>
        <source>规则涉及 {0} 份病历</source>
        <translation>The rule covers {0} records</translation>
    </message>
    <message>
        <source>设置已保存；部分更改在重新启动后生效。</source>
        <translation>Settings saved; some changes take effect after a restart.</translation>
    </message>
    <message>
        <source>设置已保存。</source>
        <translation>Settings saved.</translation>
    </message>
</context>
<context>
    <name>MessageBoxPrompter</name>
    <message>
        <source>病历 {0} 的修改尚未保存。保存并审核吗？</source>
        <translation>The changes to record {0} are not saved. Save and verify them?</translation>
    </message>
    <message>
        <source>未保存的修改</source>
        <translation>Unsaved changes</translation>
    </message>
</context>
<context>
    <name>MessageBoxRecoveryPrompter</name>
    <message>
        <source>程序上次意外退出时，病历 {0} 有未保存的修改（{1}）。恢复这些修改吗？</source>
        <translation>When the program stopped unexpectedly, record {0} had unsaved edits ({1}). Restore them?</translation>
    </message>
    <message>
        <source>另有 {0} 份病历的未保存修改将在下次启动时提供。</source>
        <translation>Unsaved edits of {0} more record(s) will be offered at the next start.</translation>
    </message>
    <message>
        <source>恢复未保存的修改</source>
        <translation>Restore unsaved edits</translation>
    </message>
</context>
<context>
    <name>ModelFallback</name>
    <message>
        <source>模型 {0} 的文件 {1} 被改动或损坏，已拒绝加载。</source>
        <translation>File {1} of model {0} was changed or damaged; the model was not loaded.</translation>
    </message>
    <message>
        <source>现使用上一版本 {0}。</source>
        <translation>Using the previous version {0} instead.</translation>
    </message>
    <message>
        <source>没有可用的上一版本，本次不使用模型。</source>
        <translation>No earlier version can be used; running without a model this time.</translation>
    </message>
</context>
<context>
    <name>ModelMenu</name>
    <message>
        <source>已切换到模型 {0}</source>
        <translation>Switched to model {0}</translation>
    </message>
    <message>
        <source>模型(&amp;M)</source>
        <translation>&amp;Model</translation>
    </message>
    <message>
        <source>重新训练(&amp;R)…</source>
        <translation>&amp;Retrain…</translation>
    </message>
    <message>
        <source>切换模型(&amp;S)</source>
        <translation>&amp;Switch model</translation>
    </message>
    <message>
        <source>回滚到上一版本(&amp;B)</source>
        <translation>Roll &amp;back to the previous version</translation>
    </message>
    <message>
        <source>（尚无已注册的模型）</source>
        <translation>(no registered models yet)</translation>
    </message>
</context>
<context>
    <name>ModelSwitcher</name>
    <message>
        <source>正在切换模型，请稍候</source>
        <translation>Switching models, please wait</translation>
    </message>
    <message>
        <source>模型 {0} 的文件夹不存在：{1}</source>
        <translation>The folder of model {0} does not exist: {1}</translation>
    </message>
    <message>
        <source>没有可以回滚到的上一个模型版本</source>
        <translation>There is no previous model version to roll back to</translation>
    </message>
    <message>
        <source>文件夹中的模型是 {0}，而不是 {1}</source>
        <translation>The model in the folder is {0}, not {1}</translation>
    </message>
    <message>
        <source>模型无法加载，仍使用原模型：{0}</source>
        <translation>The model cannot be loaded; still using the previous one: {0}</translation>
    </message>
</context>
<context>
    <name>RecordListPanel</name>
    <message>
        <source>搜索病历文本或编号…</source>
        <translation>Search record text or id…</translation>
    </message>
    <message>
        <source>全部专科</source>
        <translation>All specialties</translation>
    </message>
    <message>
        <source>全部状态</source>
        <translation>All statuses</translation>
    </message>
    <message>
        <source>全部置信度</source>
        <translation>Any confidence</translation>
    </message>
    <message>
        <source>低置信度：不确定度 ≥ {0:.2f}</source>
        <translation>Low confidence: uncertainty ≥ {0:.2f}</translation>
    </message>
    <message>
        <source>上一页</source>
        <translation>Previous page</translation>
    </message>
    <message>
        <source>下一页</source>
        <translation>Next page</translation>
    </message>
    <message>
        <source>共 {0} 条</source>
        <translation>{0} in all</translation>
    </message>
    <message>
        <source>（第 {0}/{1} 页）</source>
        <translation> (page {0}/{1})</translation>
    </message>
</context>
<context>
    <name>RecordSource</name>
    <message>
        <source>已审核记录</source>
        <translation>verified records</translation>
    </message>
    <message>
        <source>全部已标注记录</source>
        <translation>all annotated records</translation>
    </message>
    <message>
        <source>模型预测</source>
        <translation>model predictions</translation>
    </message>
</context>
<context>
    <name>RecordStatus</name>
    <message>
        <source>未处理</source>
        <translation>New</translation>
    </message>
    <message>
        <source>已预测</source>
        <translation>Predicted</translation>
    </message>
    <message>
        <source>已校正</source>
        <translation>Corrected</translation>
    </message>
    <message>
        <source>已审核</source>
        <translation>Verified</translation>
    </message>
</context>
<context>
    <name>RecordTableModel</name>
    <message>
        <source>编号</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>专科</source>
        <translation>Specialty</translation>
    </message>
    <message>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>字数</source>
        <translation>Length</translation>
    </message>
    <message>
        <source>有舌象照片</source>
        <translation>Has a tongue photo</translation>
    </message>
    <message>
        <source>无舌象照片</source>
        <translation>No tongue photo</translation>
    </message>
    <message>
        <source>，不确定度 {0:.2f}</source>
        <translation>, uncertainty {0:.2f}</translation>
    </message>
</context>
<context>
    <name>RecordTextView</name>
    <message>
        <source>未选择病历</source>
        <translation>No record selected</translation>
    </message>
</context>
<context>
    <name>Recovery</name>
    <message>
        <source>病历 {0} 无法打开（可能已被删除），其未保存的修改未能恢复</source>
        <translation>Record {0} cannot be opened (it may have been deleted); its unsaved edits were not restored</translation>
    </message>
    <message>
        <source>未能恢复的修改</source>
        <translation>Edits not restored</translation>
    </message>
    <message>
        <source>这些恢复文件已移至 {0}</source>
        <translation>These recovery files were moved to {0}</translation>
    </message>
</context>
<context>
    <name>RetrainDialog</name>
    <message>
        <source>重新训练模型</source>
        <translation>Retrain the model</translation>
    </message>
    <message>
        <source>尚未开始</source>
        <translation>Not started</translation>
    </message>
    <message>
        <source>开始训练</source>
        <translation>Start training</translation>
    </message>
    <message>
        <source>取消训练</source>
        <translation>Cancel training</translation>
    </message>
    <message>
        <source>使用新模型</source>
        <translation>Use the new model</translation>
    </message>
    <message>
        <source>回滚</source>
        <translation>Roll back</translation>
    </message>
    <message>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
    <message>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <source>支持数</source>
        <translation>Support</translation>
    </message>
    <message>
        <source>旧模型 P</source>
        <translation>Old model P</translation>
    </message>
    <message>
        <source>旧模型 R</source>
        <translation>Old model R</translation>
    </message>
    <message>
        <source>旧模型 F1</source>
        <translation>Old model F1</translation>
    </message>
    <message>
        <source>新模型 P</source>
        <translation>New model P</translation>
    </message>
    <message>
        <source>新模型 R</source>
        <translation>New model R</translation>
    </message>
    <message>
        <source>新模型 F1</source>
        <translation>New model F1</translation>
    </message>
    <message>
        <source>F1 变化</source>
        <translation>F1 change</translation>
    </message>
    <message>
        <source>无</source>
        <translation>None</translation>
    </message>
    <message>
        <source>已冻结</source>
        <translation>Frozen</translation>
    </message>
    <message>
        <source>首次训练时冻结</source>
        <translation>Frozen at the first training</translation>
    </message>
    <message>
        <source>训练数据：{0} 条已校正或已审核的病历。金标准集：{1} 条已审核病历（{2}，永不参与训练）。当前模型：{3}。</source>
        <translation>Training data: {0} corrected or verified records. Gold set: {1} verified records ({2}, never used for training). Current model: {3}.</translation>
    </message>
    <message>
        <source>至少需要 {0} 条训练病历和 {1} 条金标准病历才能训练。</source>
        <translation>Training needs at least {0} training records and {1} gold records.</translation>
    </message>
    <message>
        <source>此安装不含训练组件（缺少 {0}），无法重新训练模型。请安装含重新训练功能的完整版本。</source>
        <translation>This installation has no training component ({0} is missing), so the model cannot be retrained. Install the full version with retraining.</translation>
    </message>
    <message>
        <source>第 {0} 次训练因程序中断而未完成，已清理</source>
        <translation>Training run {0} did not finish because the program stopped; it has been cleaned up</translation>
    </message>
    <message>
        <source>开始训练新模型 {0}</source>
        <translation>Training a new model {0}</translation>
    </message>
    <message>
        <source>正在启动…</source>
        <translation>Starting…</translation>
    </message>
    <message>
        <source>正在取消…</source>
        <translation>Cancelling…</translation>
    </message>
    <message>
        <source>正在加载新模型…</source>
        <translation>Loading the new model…</translation>
    </message>
    <message>
        <source>正在回滚…</source>
        <translation>Rolling back…</translation>
    </message>
    <message>
        <source>读取数据</source>
        <translation>Reading the data</translation>
    </message>
    <message>
        <source>训练</source>
        <translation>Training</translation>
    </message>
    <message>
        <source>导出模型</source>
        <translation>Exporting the model</translation>
    </message>
    <message>
        <source>在金标准集上评估</source>
        <translation>Evaluating on the gold set</translation>
    </message>
    <message>
        <source>训练病历 {0} 条，金标准集 {1} 条（不参与训练）</source>
        <translation>{0} training records, {1} gold-set records (never trained on)</translation>
    </message>
    <message>
        <source>混入生成病历 {0} 条；每条校正病历计 {1} 次；留出 {2} 条用于早停</source>
        <translation>Mixed with {0} generated records; each corrected record counts {1} times; {2} records held out for early stopping</translation>
    </message>
    <message>
        <source>模型没有这些类别，其实体不参与训练：{0}</source>
        <translation>The model has no such categories; their entities are left out of training: {0}</translation>
    </message>
    <message>
        <source>在 {0} 的基础上微调，最多 {1} 轮</source>
        <translation>Fine-tuning {0}: up to {1} epochs</translation>
    </message>
    <message>
        <source>训练新模型，最多 {0} 轮</source>
        <translation>Training a new model: up to {0} epochs</translation>
    </message>
    <message>
        <source>第 {0} 轮：验证 F1 {1}（{2} 秒）</source>
        <translation>Epoch {0}: validation F1 {1} ({2} s)</translation>
    </message>
    <message>
        <source>正在导出 INT8 模型包</source>
        <translation>Exporting the INT8 model bundle</translation>
    </message>
    <message>
        <source>已沿用当前模型的舌象图片模型</source>
        <translation>The tongue photo models of the model in use were kept</translation>
    </message>
    <message>
        <source>无法评估当前模型：{0}</source>
        <translation>The model in use could not be evaluated: {0}</translation>
    </message>
    <message>
        <source>全部类别（微平均）</source>
        <translation>All categories (micro average)</translation>
    </message>
    <message>
        <source>新模型未能注册：{0}</source>
        <translation>The new model could not be registered: {0}</translation>
    </message>
    <message>
        <source>完成</source>
        <translation>Done</translation>
    </message>
    <message>
        <source>新模型 {0} 已注册（训练 {1} 条，金标准 {2} 条）</source>
        <translation>New model {0} registered (trained on {1} records, gold set {2})</translation>
    </message>
    <message>
        <source>失败</source>
        <translation>Failed</translation>
    </message>
    <message>
        <source>已取消</source>
        <translation>Cancelled</translation>
    </message>
    <message>
        <source>训练已取消，没有注册任何模型。</source>
        <translation>Training cancelled; no model was registered.</translation>
    </message>
    <message>
        <source>正在使用 {0}</source>
        <translation>Using {0}</translation>
    </message>
</context>
<context>
    <name>RetrainProcess</name>
    <message>
        <source>训练失败：{0}</source>
        <translation>Training failed: {0}</translation>
    </message>
    <message>
        <source>训练进程意外终止（可能是内存不足）。</source>
        <translation>The training process ended unexpectedly (perhaps out of memory).</translation>
    </message>
    <message>
        <source>训练进程以退出码 {0} 结束。</source>
        <translation>The training process ended with exit code {0}.</translation>
    </message>
    <message>
        <source>训练进程结束了，但没有报告新模型和评估结果。</source>
        <translation>The training process ended without reporting a new model and its evaluation.</translation>
    </message>
    <message>
        <source>无法启动训练进程（{0}）：{1}</source>
        <translation>Cannot start the training process ({0}): {1}</translation>
    </message>
</context>
<context>
    <name>ReviewQueueDock</name>
    <message>
        <source>待审核队列</source>
        <translation>Review queue</translation>
    </message>
    <message>
        <source>刷新</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <source>队列无法读取：{0}</source>
        <translation>The queue cannot be read: {0}</translation>
    </message>
    <message>
        <source>待审核 {0} 条</source>
        <translation>{0} to review</translation>
    </message>
    <message>
        <source>待审核：前 {0} 条</source>
        <translation>To review: the first {0}</translation>
    </message>
</context>
<context>
    <name>ReviewQueueModel</name>
    <message>
        <source>编号</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>原因</source>
        <translation>Why</translation>
    </message>
    <message>
        <source>尚未预测</source>
        <translation>Not predicted yet</translation>
    </message>
    <message>
        <source>不确定度 {0:.2f}</source>
        <translation>uncertainty {0:.2f}</translation>
    </message>
    <message>
        <source>舌象图文不一致: {0}</source>
        <translation>Tongue photo and text disagree: {0}</translation>
    </message>
    <message>
        <source>舌象照片无法使用</source>
        <translation>The tongue photo cannot be used</translation>
    </message>
    <message>
        <source>优先级 {0:.2f}</source>
        <translation>priority {0:.2f}</translation>
    </message>
    <message>
        <source>（模型 {0}）</source>
        <translation> (model {0})</translation>
    </message>
</context>
<context>
    <name>RulesDialog</name>
    <message>
        <source>知识挖掘</source>
        <translation>Knowledge mining</translation>
    </message>
    <message>
        <source>关联规则</source>
        <translation>Rules</translation>
    </message>
    <message>
        <source>统计</source>
        <translation>Statistics</translation>
    </message>
    <message>
        <source>正在统计…</source>
        <translation>Computing statistics…</translation>
    </message>
    <message>
        <source>无法统计：{0}</source>
        <translation>Cannot compute statistics: {0}</translation>
    </message>
</context>
<context>
    <name>RulesTableModel</name>
    <message>
        <source>前项</source>
        <translation>Antecedent</translation>
    </message>
    <message>
        <source>后项</source>
        <translation>Consequent</translation>
    </message>
    <message>
        <source>支持度</source>
        <translation>Support</translation>
    </message>
    <message>
        <source>置信度</source>
        <translation>Confidence</translation>
    </message>
    <message>
        <source>提升度</source>
        <translation>Lift</translation>
    </message>
    <message>
        <source>记录数</source>
        <translation>Records</translation>
    </message>
    <message>
        <source>{0}
{1} 条记录；双击列出</source>
        <translation>{0}
{1} records; double-click to list them</translation>
    </message>
</context>
<context>
    <name>RulesView</name>
    <message>
        <source>任意</source>
        <translation>Any</translation>
    </message>
    <message>
        <source>挖掘</source>
        <translation>Mine</translation>
    </message>
    <message>
        <source>重新读取</source>
        <translation>Reload</translation>
    </message>
    <message>
        <source>重新读取记录（审核或预测了更多记录之后）</source>
        <translation>Read the records again (after more were verified or predicted)</translation>
    </message>
    <message>
        <source>双击规则或按 Enter 查看记录</source>
        <translation>Double-click a rule or press Enter to list its records</translation>
    </message>
    <message>
        <source>记录来源</source>
        <translation>Source</translation>
    </message>
    <message>
        <source>最小支持度</source>
        <translation>Min support</translation>
    </message>
    <message>
        <source>最小置信度</source>
        <translation>Min confidence</translation>
    </message>
    <message>
        <source>规则最多项数</source>
        <translation>Max items</translation>
    </message>
    <message>
        <source>前项类型</source>
        <translation>Antecedent</translation>
    </message>
    <message>
        <source>后项类型</source>
        <translation>Consequent</translation>
    </message>
    <message>
        <source>正在挖掘…</source>
        <translation>Mining…</translation>
    </message>
    <message>
        <source>没有{0}，请选择其他记录来源</source>
        <translation>No {0}; choose another source</translation>
    </message>
    <message>
        <source>{0} 条规则，来自 {1} 条{2}</source>
        <translation>{0} rules from {1} {2}</translation>
    </message>
    <message>
        <source>无法挖掘：{0}</source>
        <translation>Cannot mine: {0}</translation>
    </message>
    <message>
        <source>{0}：{1} 条记录</source>
        <translation>{0}: {1} records</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>打开数据库</source>
        <translation>Open database</translation>
    </message>
    <message>
        <source>导入病历</source>
        <translation>Import records</translation>
    </message>
    <message>
        <source>导出病历</source>
        <translation>Export records</translation>
    </message>
    <message>
        <source>首选项</source>
        <translation>Preferences</translation>
    </message>
    <message>
        <source>退出</source>
        <translation>Quit</translation>
    </message>
    <message>
        <source>刷新列表</source>
        <translation>Refresh list</translation>
    </message>
    <message>
        <source>搜索</source>
        <translation>Search</translation>
    </message>
    <message>
        <source>保存并审核</source>
        <translation>Save and verify</translation>
    </message>
    <message>
        <source>保存并转到下一条</source>
        <translation>Save and go to next</translation>
    </message>
    <message>
        <source>下一条病历</source>
        <translation>Next record</translation>
    </message>
    <message>
        <source>上一条病历</source>
        <translation>Previous record</translation>
    </message>
    <message>
        <source>转到病历列表</source>
        <translation>Go to record list</translation>
    </message>
    <message>
        <source>转到病历正文</source>
        <translation>Go to record text</translation>
    </message>
    <message>
        <source>转到结构化表单</source>
        <translation>Go to structured form</translation>
    </message>
    <message>
        <source>转到待审核队列</source>
        <translation>Go to the review queue</translation>
    </message>
    <message>
        <source>常规</source>
        <translation>General</translation>
    </message>
    <message>
        <source>快捷键</source>
        <translation>Shortcuts</translation>
    </message>
    <message>
        <source>类别键</source>
        <translation>Category keys</translation>
    </message>
    <message>
        <source>语言、文件夹、线程数和类别键在重新启动程序后生效；快捷键立即生效。</source>
        <translation>Language, folders, threads and category keys take effect when the program starts again; shortcuts at once.</translation>
    </message>
    <message>
        <source>浏览…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <source>默认：系统的用户数据文件夹</source>
        <translation>Default: the system&apos;s user data folder</translation>
    </message>
    <message>
        <source>默认：随程序提供的模型</source>
        <translation>Default: the model shipped with the program</translation>
    </message>
    <message>
        <source> 分钟</source>
        <translation> min</translation>
    </message>
    <message>
        <source>不自动备份</source>
        <translation>No automatic backups</translation>
    </message>
    <message>
        <source>界面语言：</source>
        <translation>Interface language:</translation>
    </message>
    <message>
        <source>数据文件夹：</source>
        <translation>Data folder:</translation>
    </message>
    <message>
        <source>选择数据文件夹</source>
        <translation>Choose the data folder</translation>
    </message>
    <message>
        <source>模型文件夹：</source>
        <translation>Model folder:</translation>
    </message>
    <message>
        <source>选择模型文件夹</source>
        <translation>Choose the model folder</translation>
    </message>
    <message>
        <source>推理线程数：</source>
        <translation>Inference threads:</translation>
    </message>
    <message>
        <source>自动备份间隔：</source>
        <translation>Automatic backup every:</translation>
    </message>
    <message>
        <source>保留备份份数：</source>
        <translation>Backups to keep:</translation>
    </message>
    <message>
        <source>空白：使用默认键 {0}</source>
        <translation>Empty: use the default key {0}</translation>
    </message>
    <message>
        <source>请先改正这些设置：</source>
        <translation>Please correct these settings first:</translation>
    </message>
    <message>
        <source>无法保存设置：{0}</source>
        <translation>Cannot save the settings: {0}</translation>
    </message>
</context>
<context>
    <name>Startup</name>
    <message>
        <source>数据库 {0} 已损坏（{1}：{2}）。

要用最近一份完好的备份（{3}，{4}）恢复吗？损坏的文件会另存一份，不会删除。</source>
        <translation>The database {0} is damaged ({1}: {2}).

Restore the newest intact backup ({3}, {4})? The damaged file is kept as a copy, not deleted.</translation>
    </message>
    <message>
        <source>数据库已损坏</source>
        <translation>Damaged database</translation>
    </message>
    <message>
        <source>数据库已从备份 {0} 恢复；损坏的文件另存为 {1}。</source>
        <translation>The database was restored from the backup {0}; the damaged file was kept as {1}.</translation>
    </message>
    <message>
        <source>数据库 {0} 已在另一个程序中打开（{1}）。可以继续使用，但请不要同时修改同一份病历。</source>
        <translation>The database {0} is already open in another program ({1}). You can go on, but do not edit the same record in both at once.</translation>
    </message>
</context>
<context>
    <name>StatisticsView</name>
    <message>
        <source>实体计数</source>
        <translation>Entity counts</translation>
    </message>
    <message>
        <source>置信度</source>
        <translation>Confidence</translation>
    </message>
    <message>
        <source>纠正率</source>
        <translation>Correction rate</translation>
    </message>
    <message>
        <source>保存 PNG…</source>
        <translation>Save PNG…</translation>
    </message>
    <message>
        <source>把当前图表保存为 PNG 图片</source>
        <translation>Save the shown plot as a PNG picture</translation>
    </message>
    <message>
        <source>已保存 {0}</source>
        <translation>Saved {0}</translation>
    </message>
    <message>
        <source>保存 PNG</source>
        <translation>Save PNG</translation>
    </message>
    <message>
        <source>未能保存：{0}</source>
        <translation>Could not save: {0}</translation>
    </message>
</context>
<context>
    <name>TextPanel</name>
    <message>
        <source>未选择病历</source>
        <translation>No record selected</translation>
    </message>
</context>
</TS>
